import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IngestPipelineService } from '../src/events/ingest-pipeline.service.js';
import { type InsightsRange, resolveRange } from '../src/insights/insights-range.js';
import { InsightsService } from '../src/insights/insights.service.js';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';

const MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
const WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const SITE = 'https://shop.example.com';

const DAY_MS = 86_400_000;

/** The UTC day `days` before today, as YYYY-MM-DD. */
const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString().slice(0, 10);
/** The day `n` days after `day` (YYYY-MM-DD). */
const plusDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
/** A time of `day` (UTC), as ISO 8601. */
const at = (day: string, hhmm: string) => `${day}T${hhmm}:00.000Z`;
/** The local date of an instant in a time zone (YYYY-MM-DD). */
const localDate = (iso: string, timeZone: string) => new Intl.DateTimeFormat('en-CA', { timeZone }).format(new Date(iso));

/**
 * A crafted day (UTC) with hand-computed answers:
 * - device A (Mac, GB): session A1 10:00 "/" from Google with utm_source=newsletter, 10:05
 *   "/pricing", 10:06 a click (3 events, 2 views, 360 s); session A2 11:00 "/docs", direct (bounce).
 * - device B (iPhone, US): session B1 10:30 "/pricing" from t.co (bounce).
 * - a crawler at 10:40 (left out).
 * - device D (Windows, no place) with its own session id: 12:00 "/pricing", 12:10 "/" (600 s).
 * Sessions 4, visitors 3, page views 6, bounce rate 50 %, average duration 240 s.
 * The day is placed some days before today (the suite runs at several), as history sent late.
 */
function crafted(day: string): { ua: string; payload: Record<string, unknown> }[] {
  const titles: Record<string, string> = { '/pricing': 'Pricing', '/docs': 'Docs' };
  const view = (hhmm: string, path: string, ip: string, referrer?: string) => ({
    name: 'screen_view',
    properties: {
      __timestamp: at(day, hhmm),
      __path: `${SITE}${path}`,
      __ip: ip,
      ...(referrer ? { __referrer: referrer } : {}),
      ...(titles[path] ? { __title: titles[path] } : {}),
    },
  });
  return [
    { ua: MAC, payload: view('10:00', '/?utm_source=newsletter', '81.2.69.142', 'https://www.google.com/search?q=shop') },
    { ua: MAC, payload: view('10:05', '/pricing', '81.2.69.142', `${SITE}/`) },
    { ua: MAC, payload: { name: 'click', properties: { __timestamp: at(day, '10:06'), __ip: '81.2.69.142' } } },
    { ua: MAC, payload: view('11:00', '/docs', '81.2.69.142') },
    { ua: IPHONE, payload: view('10:30', '/pricing', '2001:4860:4860::8888', 'https://t.co/xyz') },
    { ua: GOOGLEBOT, payload: view('10:40', '/', '66.249.66.1') },
    { ua: WINDOWS, payload: { ...view('12:00', '/pricing', '10.0.0.1'), deviceId: 'dev-d', sessionId: 'client-session' } },
    { ua: WINDOWS, payload: { ...view('12:10', '/', '10.0.0.1', `${SITE}/pricing`), deviceId: 'dev-d', sessionId: 'client-session' } },
  ];
}

/** The sessions' starts (UTC hh:mm) of the crafted day. */
const SESSION_STARTS = ['10:00', '10:30', '11:00', '12:00'];

// The same suite with the day 3, 30 and 80 days back (the default retention is 90): sessions
// of events sent days late are the ones they would have had live.
for (const ago of [3, 30, 80]) {
  describe(`insights (Event Lens / OpenPanel), the crafted day ${ago} days ago`, () => {
    const D = daysAgo(ago);
    let t: TestApp;
    let web: Credentials;
    const range = `startDate=${D}&endDate=${D}`;
    const get = (path: string, secret = web.read) => call(t.url, 'GET', `/insights/${web.accountId}/${path}`, { secret });

    before(async () => {
      t = await startApp();
      web = await createAccount(t.url, 'web');
      // Sent newest first, each stored on its own: sessions follow event time, across batches.
      for (const e of crafted(D).reverse()) {
        const headers = { 'openpanel-client-id': web.clients.write.clientId, 'openpanel-client-secret': web.write, 'user-agent': e.ua };
        const res = await call(t.url, 'POST', '/track', { body: { type: 'track', payload: e.payload }, headers });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        await t.app.get(IngestPipelineService).flush();
      }
    });
    after(async () => t?.close());

    it('answers the figures of a range and of the period before it', async () => {
      const res = await get(`metrics?${range}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.metrics, {
        unique_visitors: 3,
        total_sessions: 4,
        bounce_rate: 50,
        avg_session_duration: 240,
        total_screen_views: 6,
        views_per_session: 1.5,
      });
      assert.equal(res.body.previous.total_sessions, 0);
      assert.equal(res.body.series.length, 24, 'hourly, zero-filled');
      // The next day has no sessions; its previous period is the crafted day.
      const next = await get(`metrics?startDate=${plusDays(D, 1)}&endDate=${plusDays(D, 1)}`);
      assert.equal(next.body.metrics.total_sessions, 0);
      assert.deepEqual(next.body.previous, res.body.metrics);
    });

    it('filters sessions by their first event', async () => {
      const filters = encodeURIComponent(JSON.stringify([{ name: 'country', operator: 'is', value: ['GB'] }]));
      const res = await get(`metrics?${range}&filters=${filters}`);
      assert.deepEqual(res.body.metrics, {
        unique_visitors: 1,
        total_sessions: 2,
        bounce_rate: 50,
        avg_session_duration: 180,
        total_screen_views: 3,
        views_per_session: 1.5,
      });
      const notDirect = encodeURIComponent(JSON.stringify([{ name: 'referrer_type', operator: 'isNot', value: ['direct'] }]));
      assert.equal((await get(`metrics?${range}&filters=${notDirect}`)).body.metrics.total_sessions, 2);
    });

    it('buckets sessions by their start in the asked interval and time zone', async () => {
      const res = await get(`timeseries?${range}&interval=hour`);
      const nonZero = res.body.series.filter((p: { total_sessions: number }) => p.total_sessions > 0);
      assert.deepEqual(
        nonZero.map((p: { date: string; total_sessions: number }) => [p.date, p.total_sessions]),
        [
          [at(D, '10:00'), 2],
          [at(D, '11:00'), 1],
          [at(D, '12:00'), 1],
        ],
      );
      // Every hour of the day is there, empty ones too, each with its own date.
      assert.deepEqual(
        res.body.series.map((p: { date: string }) => p.date),
        Array.from({ length: 24 }, (_, h) => new Date(Date.parse(`${D}T00:00:00Z`) + h * 3_600_000).toISOString()),
      );
      // The metrics' series is the same, and its periods add up the day and the day before.
      const metrics = await get(`metrics?${range}&interval=hour`);
      assert.deepEqual(metrics.body.series, res.body.series);
      assert.equal(metrics.body.metrics.total_sessions, 4);
      assert.equal(metrics.body.previous.total_sessions, 0);
      // Kathmandu (+05:45): the series' hours start at :15 UTC.
      const kathmandu = await get(`timeseries?${range}&interval=hour&timezone=Asia/Kathmandu`);
      assert.equal(kathmandu.body.series.length, 24);
      assert.equal(kathmandu.body.series[0].date, at(plusDays(D, -1), '18:15'));
      // In New York the same day starts at 05:00 UTC and holds every session.
      const ny = await get(`metrics?${range}&timezone=America/New_York`);
      assert.equal(ny.body.metrics.total_sessions, 4);
      // Auckland (+12, or +13 in its summer): its day D ends at 12:00 or 11:00 UTC, so A2 (11:00)
      // is in it or not.
      const auckland = await get(`metrics?${range}&timezone=Pacific/Auckland`);
      const inAuckland = SESSION_STARTS.filter((hhmm) => localDate(at(D, hhmm), 'Pacific/Auckland') === D).length;
      assert.ok(inAuckland === 2 || inAuckland === 3);
      assert.equal(auckland.body.metrics.total_sessions, inAuckland);
    });

    it('ranks pages, entry and exit pages by sessions', async () => {
      const pages = await get(`pages?${range}`);
      assert.deepEqual(
        pages.body.map((p: any) => [p.path, p.origin, p.sessions, p.screen_views, p.bounce_rate, p.avg_duration]),
        [
          ['/pricing', SITE, 3, 3, 33.33, 320],
          ['/', SITE, 2, 2, 0, 480],
          ['/docs', SITE, 1, 1, 100, 0],
        ],
      );
      // Each page's last seen title ('/' was sent without one), from the rollups and with a filter.
      assert.deepEqual(pages.body.map((p: any) => [p.path, p.title]), [['/pricing', 'Pricing'], ['/', ''], ['/docs', 'Docs']]);
      const fromMac = encodeURIComponent(JSON.stringify([{ name: 'os', operator: 'is', value: ['Mac OS'] }]));
      const filtered = await get(`pages?${range}&filters=${fromMac}`);
      assert.deepEqual(filtered.body.map((p: any) => [p.path, p.title, p.sessions]), [['/', '', 1], ['/docs', 'Docs', 1], ['/pricing', 'Pricing', 1]]);
      const entry = await get(`entry-pages?${range}`);
      assert.deepEqual(entry.body.map((r: any) => [r.name, r.sessions]), [['/pricing', 2], ['/', 1], ['/docs', 1]]);
      const exit = await get(`exit-pages?${range}`);
      assert.deepEqual(exit.body.map((r: any) => [r.name, r.sessions]), [['/pricing', 2], ['/', 1], ['/docs', 1]]);
    });

    it('breaks sessions down by referrer, UTM, device, browser, OS and place', async () => {
      const rows = async (path: string) => (await get(`${path}${path.includes('?') ? '&' : '?'}${range}`)).body.map((r: any) => [r.name, r.sessions]);
      const referrers = await get(`referrers?${range}`);
      assert.deepEqual(referrers.body.map((r: any) => [r.name, r.type, r.sessions]), [['', 'direct', 2], ['Google', 'search', 1], ['Twitter', 'social', 1]]);
      assert.deepEqual(await rows('referrers?by=type'), [['direct', 2], ['search', 1], ['social', 1]]);
      assert.deepEqual(await rows('utm'), [['', 3], ['newsletter', 1]]);
      assert.deepEqual(await rows('devices'), [['desktop', 3], ['mobile', 1]]);
      assert.deepEqual(await rows('browsers'), [['Safari', 2], ['Chrome', 1], ['Mobile Safari', 1]]);
      assert.deepEqual(await rows('os'), [['Mac OS', 2], ['Windows', 1], ['iOS', 1]]);
      assert.deepEqual(await rows('countries'), [['GB', 2], ['', 1], ['US', 1]]);
      // The database places B's address in the US but in no city; D's is private.
      assert.deepEqual(await rows('cities'), [['', 2], ['Newmarket', 2]]);
    });

    it('answers the same from the rollups as from the sessions, for whole and cut 15-minute buckets', async () => {
      const insights = t.app.get(InsightsService);
      const id = web.accountId;
      const ranges: InsightsRange[] = [
        resolveRange({ startDate: D, endDate: D, interval: 'hour' }),
        resolveRange({ startDate: D, endDate: D, timezone: 'Asia/Kathmandu' }),
        resolveRange({ startDate: plusDays(D, -1), endDate: plusDays(D, 1), interval: 'day', timezone: 'America/New_York' }),
        // Bounds inside buckets: 10:02 cuts A1's bucket, 12:07 D's.
        resolveRange({ startDate: `${D}T10:02:00Z`, endDate: `${D}T12:07:00Z`, interval: 'hour' }),
        resolveRange({ startDate: `${D}T09:59:59.999Z`, endDate: `${D}T10:30:00.001Z`, interval: 'minute' }),
        resolveRange({ startDate: `${D}T10:00:00.001Z`, endDate: `${D}T10:29:59.999Z`, interval: 'minute' }),
      ];
      const raw = { rollups: false };
      for (const r of ranges) {
        const label = `${new Date(r.from).toISOString()} – ${new Date(r.to).toISOString()} ${r.timezone}`;
        const fast = await insights.metrics(id, r, []);
        assert.deepEqual(fast, await insights.metrics(id, r, [], raw), label);
        assert.deepEqual(await insights.pages(id, r, [], 10), await insights.pages(id, r, [], 10, raw), label);
        assert.deepEqual(await insights.referrers(id, r, [], 10), await insights.referrers(id, r, [], 10, raw), label);
        for (const d of ['path', 'exit', 'referrer_type', 'utm_source', 'device', 'browser', 'country', 'city']) {
          assert.deepEqual(await insights.breakdown(id, r, [], d, 10), await insights.breakdown(id, r, [], d, 10, raw), `${d} ${label}`);
        }
      }
      // The cut ranges count to the millisecond: from 10:02, B1, A2 and D; A1 (10:00) and B1 (10:30)
      // are in the range around them and out of the one just inside them.
      assert.equal((await insights.metrics(id, ranges[3]!, [])).metrics.total_sessions, 3);
      assert.equal((await insights.metrics(id, ranges[4]!, [])).metrics.total_sessions, 2);
      assert.equal((await insights.metrics(id, ranges[5]!, [])).metrics.total_sessions, 0);
    });

    it('counts visitors seen in the last five minutes', async () => {
      assert.deepEqual((await get('live')).body, { visitors: 0 });
      const headers = { 'openpanel-client-id': web.clients.write.clientId, 'openpanel-client-secret': web.write };
      await call(t.url, 'POST', '/track', { body: { type: 'track', payload: { name: 'screen_view', deviceId: 'live-1' } }, headers });
      await t.app.get(IngestPipelineService).flush();
      assert.deepEqual((await get('live')).body, { visitors: 1 });
    });

    it('refuses regular expressions RE2 cannot compile on every endpoint with filters, naming the value; runs valid ones', async () => {
      const q = (filters: unknown[]) => `${range}&filters=${encodeURIComponent(JSON.stringify(filters))}`;
      const oneBad = [{ name: 'path', operator: 'regex', value: ['('] }];
      const secondOfSecond = [
        { name: 'country', operator: 'is', value: ['GB'] },
        { name: 'path', operator: 'regex', value: ['^/', '[', 'a{2,1}'] },
      ];
      for (const endpoint of ['metrics', 'timeseries', 'pages', 'entry-pages', 'devices', 'cities', 'referrers', 'referrers?by=type', 'utm?param=medium']) {
        const path = `${endpoint}${endpoint.includes('?') ? '&' : '?'}`;
        const one = await get(`${path}${q(oneBad)}`);
        assert.equal(one.status, 400, `${endpoint}: ${JSON.stringify(one.body)}`);
        assert.equal(one.body.error.code, 'validation_failed');
        assert.deepEqual(one.body.error.details, [{ field: 'filters[0].value[0]', message: 'is not a valid regular expression (RE2 syntax): missing )' }]);
        const two = await get(`${path}${q(secondOfSecond)}`);
        assert.equal(two.status, 400, endpoint);
        assert.deepEqual(two.body.error.details, [
          { field: 'filters[1].value[1]', message: 'is not a valid regular expression (RE2 syntax): missing ]' },
          { field: 'filters[1].value[2]', message: 'is not a valid regular expression (RE2 syntax): invalid repetition size' },
        ]);
        assert.doesNotMatch(JSON.stringify([one.body, two.body]), /DB::|Exception|SELECT|CANNOT_COMPILE|Code: /);
      }
      const tooLong = await get(`metrics?${q([{ name: 'path', operator: 'regex', value: ['x', 'a'.repeat(1001)] }])}`);
      assert.equal(tooLong.status, 400);
      assert.equal(tooLong.body.error.details[0].field, 'filters[0].value[1]');
      // Valid expressions filter (RE2 escapes and classes included): the sessions entering on /pricing.
      const pricing = await get(`metrics?${q([{ name: 'path', operator: 'regex', value: ['^/pric\\w+$', '^/nothing\\.here$'] }])}`);
      assert.equal(pricing.status, 200, JSON.stringify(pricing.body));
      assert.equal(pricing.body.metrics.total_sessions, 2);
      const entry = await get(`entry-pages?${q([{ name: 'path', operator: 'regex', value: ['^/(docs|pricing)$'] }])}`);
      assert.deepEqual(entry.body.map((r: any) => [r.name, r.sessions]), [['/pricing', 2], ['/docs', 1]]);
    });

    it('refuses bad ranges, filters and other accounts, naming the field', async () => {
      const field = async (path: string) => {
        const res = await get(path);
        assert.equal(res.status, 400, path);
        return res.body.error.details[0].field;
      };
      assert.equal(await field('metrics?range=fortnight'), 'range');
      assert.equal(await field('metrics?range=custom&startDate=2026-11-20'), 'endDate');
      assert.equal(await field('metrics?startDate=2026-11-21&endDate=2026-11-20'), 'startDate');
      assert.equal(await field('metrics?timezone=Mars/Olympus'), 'timezone');
      assert.equal(await field('metrics?timezone=us/pacific'), 'timezone', 'a link in a letter case the store does not know');
      assert.equal(await field('metrics?startDate=0000-01-01&endDate=2026-11-20'), 'startDate');
      assert.equal((await get(`metrics?${range}&timezone=utc`)).status, 200);
      assert.equal(await field('timeseries?range=12m&interval=minute'), 'interval');
      assert.equal(await field(`metrics?filters=${encodeURIComponent('[{"name":"password","operator":"is","value":["x"]}]')}`), 'filters[0].name');
      assert.equal(await field(`metrics?filters=${encodeURIComponent('[{"name":"country","operator":"like","value":["x"]}]')}`), 'filters[0].operator');
      assert.equal(await field('metrics?filters=not-json'), 'filters');
      assert.equal(await field('utm?param=medium2'), 'param');
      assert.equal((await get('nothing-here')).status, 404);
      const other = await createAccount(t.url, 'other');
      assert.equal((await call(t.url, 'GET', `/insights/${web.accountId}/metrics`, { secret: other.read })).status, 404);
      assert.equal((await get('metrics', web.write)).status, 403, 'write clients only ingest');
    });
  });
}
