import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IngestPipelineService } from '../src/events/ingest-pipeline.service.js';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';

const DAY_MS = 86_400_000;
const SITE = 'https://shop.example.com';
const BROWSER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';

/** Day 0 of the history: 62 days ago, so its last day (59) is three days old. */
const DAY0 = new Date(Date.now() - 62 * DAY_MS).toISOString().slice(0, 10);
const day = (n: number) => new Date(Date.parse(`${DAY0}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

interface Envelope {
  type: 'track';
  payload: { name: string; deviceId: string; properties: Record<string, unknown> };
}

/**
 * Sixty days of one shop's history, hand-computed (UTC):
 * - device A on days 0, 10, 20, 30, 40, 50: 09:00 "/", 09:10 "/pricing", 09:12 signup
 *   → 6 sessions of 3 events and 2 views, 720 s each;
 * - device B on days 5, 25, 45: 14:00 "/docs" → 3 bounces;
 * - device C: day 30 23:50 "/" and day 31 00:10 "/pricing" → one session across midnight, 1,200 s;
 *   day 59 20:00 "/", 20:25 "/pricing", 20:50 "/pricing" → one session (gaps of 25 minutes), 3,000 s;
 *   22:00 "/" → a bounce (70 minutes later).
 * Sessions 12, visitors 3, page views 21, bounces 4 (33.33 %), durations 8,520 s (710 s on average).
 */
function history(): Envelope[] {
  const view = (device: string, d: number, hhmm: string, path: string): Envelope => ({
    type: 'track',
    payload: { name: 'screen_view', deviceId: device, properties: { __timestamp: `${day(d)}T${hhmm}:00.000Z`, __path: `${SITE}${path}` } },
  });
  const signup = (device: string, d: number, hhmm: string): Envelope => ({
    type: 'track',
    payload: { name: 'signup', deviceId: device, properties: { __timestamp: `${day(d)}T${hhmm}:00.000Z` } },
  });
  const events: Envelope[] = [];
  for (const d of [0, 10, 20, 30, 40, 50]) events.push(view('dev-a', d, '09:00', '/'), view('dev-a', d, '09:10', '/pricing'), signup('dev-a', d, '09:12'));
  for (const d of [5, 25, 45]) events.push(view('dev-b', d, '14:00', '/docs'));
  events.push(view('dev-c', 30, '23:50', '/'), view('dev-c', 31, '00:10', '/pricing'));
  events.push(view('dev-c', 59, '20:00', '/'), view('dev-c', 59, '20:25', '/pricing'), view('dev-c', 59, '20:50', '/pricing'), view('dev-c', 59, '22:00', '/'));
  return events;
}

const time = (e: Envelope) => Date.parse(e.payload.properties.__timestamp as string);

describe('a 60-day history imported through /track', () => {
  let t: TestApp;
  let imported: Credentials;
  let live: Credentials;
  const range = `startDate=${day(0)}&endDate=${day(59)}`;
  const get = (who: Credentials, path: string) => call(t.url, 'GET', `/insights/${who.accountId}/${path}`, { secret: who.read });
  const funnel = (who: Credentials) =>
    call(t.url, 'POST', `/insights/${who.accountId}/funnel`, {
      secret: who.read,
      body: {
        startDate: day(0),
        endDate: day(59),
        window: 3600,
        countBy: 'session',
        steps: [
          { name: 'screen_view', filters: [{ name: 'path', operator: 'is', value: ['/'] }] },
          { name: 'screen_view', filters: [{ name: 'path', operator: 'is', value: ['/pricing'] }] },
          'signup',
        ],
      },
    });

  /** Sends the envelopes in batches of the given sizes (cycled), each batch stored before the next. */
  async function send(who: Credentials, events: Envelope[], sizes: number[]): Promise<void> {
    const headers = { 'openpanel-client-id': who.clients.write.clientId, 'openpanel-client-secret': who.write, 'user-agent': BROWSER };
    for (let i = 0, k = 0; i < events.length; k++) {
      const batch = events.slice(i, i + sizes[k % sizes.length]!);
      i += batch.length;
      const res = await call(t.url, 'POST', '/track', { body: { type: 'batch', payload: batch }, headers });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.body.accepted, batch.length, JSON.stringify(res.body));
      await t.app.get(IngestPipelineService).flush();
    }
  }

  before(async () => {
    t = await startApp();
    imported = await createAccount(t.url, 'imported');
    live = await createAccount(t.url, 'live');
    const events = history();
    // The import: newest first, in batches of mixed sizes.
    await send(imported, [...events].sort((a, b) => time(b) - time(a)), [1, 5, 2, 8, 3, 13]);
    // The same events as they would have come live: in time order.
    await send(live, [...events].sort((a, b) => time(a) - time(b)), [1]);
  });
  after(async () => t?.close());

  it('has the sessions, bounce rate and durations the events had', async () => {
    const res = await get(imported, `metrics?${range}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.metrics, {
      unique_visitors: 3,
      total_sessions: 12,
      bounce_rate: 33.33,
      avg_session_duration: 710,
      total_screen_views: 21,
      views_per_session: 1.75,
    });
    const entry = await get(imported, `entry-pages?${range}`);
    assert.deepEqual(entry.body.map((r: { name: string; sessions: number }) => [r.name, r.sessions]), [['/', 9], ['/docs', 3]]);
    const exit = await get(imported, `exit-pages?${range}`);
    assert.deepEqual(exit.body.map((r: { name: string; sessions: number }) => [r.name, r.sessions]), [['/pricing', 8], ['/docs', 3], ['/', 1]]);
  });

  it('counts a per-session funnel within each session', async () => {
    const res = await funnel(imported);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    // Step 1: A's 6 sessions and C's 3; step 2: A's 6 and C's two ("/" then "/pricing" 20 and
    // 25 minutes later); step 3: A's 6 signups, two minutes after the pricing page.
    assert.deepEqual(
      res.body.steps.map((s: { count: number; median_seconds_from_previous: number | null }) => [s.count, s.median_seconds_from_previous]),
      [
        [9, null],
        [8, 600],
        [6, 120],
      ],
    );
  });

  it('answers every question as the same events sent live do', async () => {
    for (const path of [`metrics?${range}`, `timeseries?${range}&interval=day`, `pages?${range}`, `entry-pages?${range}`, `exit-pages?${range}`]) {
      assert.deepEqual((await get(imported, path)).body, (await get(live, path)).body, path);
    }
    assert.deepEqual((await funnel(imported)).body, (await funnel(live)).body);
    const ready = await call(t.url, 'GET', '/ready');
    assert.equal(ready.body.ingest.sessionsBridged, 0, 'newest first never bridges two stored sessions');
  });
});
