import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ACTIVITY_TABLE, ACTIVITY_VIEW, STEP_EVENTS_TABLE, STEP_EVENTS_VIEW, STEP_FIRSTS_TABLE } from '../src/infrastructure/clickhouse/schema/tables.js';
import { IngestPipelineService } from '../src/events/ingest-pipeline.service.js';
import { EVENTS_STORE, type EventsStore } from '../src/infrastructure/clickhouse/events-store.port.js';
import { resolveRange } from '../src/insights/insights-range.js';
import { InsightsService } from '../src/insights/insights.service.js';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';

/** The SELECT a materialized view runs (as the store keeps it), to fill its table again by hand. */
async function viewSelect(store: EventsStore, view: string): Promise<string> {
  const [row] = await store.query<{ as_select: string }>(
    `SELECT as_select FROM system.tables WHERE database = currentDatabase() AND name = {view:String}`,
    { view },
  );
  return row!.as_select;
}

const at = (day: string, hhmmss: string, ms = 0) => Date.parse(`${day}T${hhmmss}Z`) + ms;
const D = '2026-11-20';

/**
 * Funnel view → signup → pay, window one hour, hand-computed:
 * u1 view 10:00 (/pricing), signup 10:10, pay 10:40 (in another session)  → 3 steps, gaps 600 s, 1800 s
 * u2 view 10:00 (/pricing), signup 10:30, pay 11:00:00.000 (the window's edge) → 3 steps, 1800 s, 1800 s
 * u3 view 10:00, signup 10:20, pay 11:00:00.001 (1 ms late)              → 2 steps, 1200 s
 * u4 signup 09:00, then view 09:30, pay 09:40 (signup came before view)    → 1 step
 * u5 pay only                                                            → not in the funnel
 * u6 view 12:00, view 12:05, signup 12:50 (50 min after the first view)  → 2 steps, 3000 s
 */
function funnelEvents() {
  const e = (user: string, name: string, t: number, session = `s-${user}`, path = '/') => ({
    eventType: 'track',
    eventName: name,
    timestamp: t,
    userId: user,
    sessionId: session,
    context: { page: { url: `https://shop.example.com${path}` } },
  });
  return [
    e('u1', 'view', at(D, '10:00:00'), 's-u1', '/pricing'),
    e('u1', 'signup', at(D, '10:10:00')),
    e('u1', 'pay', at(D, '10:40:00'), 's-u1-later'),
    e('u2', 'view', at(D, '10:00:00'), 's-u2', '/pricing'),
    e('u2', 'signup', at(D, '10:30:00')),
    e('u2', 'pay', at(D, '11:00:00')),
    e('u3', 'view', at(D, '10:00:00')),
    e('u3', 'signup', at(D, '10:20:00')),
    e('u3', 'pay', at(D, '11:00:00', 1)),
    e('u4', 'signup', at(D, '09:00:00')),
    e('u4', 'view', at(D, '09:30:00')),
    e('u4', 'pay', at(D, '09:40:00')),
    e('u5', 'pay', at(D, '10:00:00')),
    e('u6', 'view', at(D, '12:00:00')),
    e('u6', 'view', at(D, '12:05:00')),
    e('u6', 'signup', at(D, '12:50:00')),
  ];
}

/**
 * Retention, daily over 2026-11-02..05 (UTC), events at 12:00 UTC unless said:
 * a: 2, 3, 5 (purchase on 5) · b: 2, 4 · c: 3, 4 (purchase on 4) · d: 5 · e: 1 (before) and 3 ·
 * f: 3 at 20:00 UTC (the 4th in Tokyo) · a again on 10 (the next week).
 */
function retentionEvents() {
  const e = (user: string, day: number, name = 'visit', time = '12:00:00') => ({
    eventType: 'track',
    eventName: name,
    timestamp: at(`2026-11-${String(day).padStart(2, '0')}`, time),
    userId: user,
  });
  return [
    e('a', 2), e('a', 3), e('a', 5, 'purchase'), e('a', 10),
    e('b', 2), e('b', 4),
    e('c', 3), e('c', 4, 'purchase'),
    e('d', 5),
    e('e', 1), e('e', 3),
    e('f', 3, 'visit', '20:00:00'),
  ];
}

describe('funnels and retention', () => {
  let t: TestApp;
  let acct: Credentials;
  const funnel = (body: Record<string, unknown>) =>
    call(t.url, 'POST', `/insights/${acct.accountId}/funnel`, { secret: acct.read, body: { startDate: D, endDate: D, window: 3600, ...body } });
  const retention = (query: string) => call(t.url, 'GET', `/insights/${acct.accountId}/retention?${query}`, { secret: acct.read });

  before(async () => {
    // The fixtures are fixed days chosen for their calendar (a Monday, a month, Auckland's summer
    // time), so the retention is long enough to keep them.
    t = await startApp({ RETENTION_DAYS: '3650' });
    acct = await createAccount(t.url, 'funnels');
    for (const events of [funnelEvents(), retentionEvents()]) {
      const res = await call(t.url, 'POST', '/api/events/batch', { secret: acct.write, body: { events } });
      assert.equal(res.body.accepted, events.length, JSON.stringify(res.body));
    }
    await t.app.get(IngestPipelineService).flush();
  });
  after(async () => t?.close());

  it('counts each step in order within the window, with drop-off and median time between steps', async () => {
    const res = await funnel({ steps: ['view', 'signup', 'pay'] });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, {
      steps: [
        { name: 'view', count: 5, conversion_rate: 100, dropoff: 0, median_seconds_from_previous: null },
        { name: 'signup', count: 4, conversion_rate: 80, dropoff: 1, median_seconds_from_previous: 1500 },
        { name: 'pay', count: 2, conversion_rate: 40, dropoff: 2, median_seconds_from_previous: 1800 },
      ],
      overall_conversion_rate: 40,
    });
  });

  it('counts per session when asked, and filters a step', async () => {
    const bySession = await funnel({ steps: ['view', 'signup', 'pay'], countBy: 'session' });
    assert.deepEqual(bySession.body.steps.map((s: { count: number }) => s.count), [5, 4, 1]);
    const pricing = await funnel({ steps: [{ name: 'view', filters: [{ name: 'path', operator: 'is', value: ['/pricing'] }] }, 'signup'] });
    assert.deepEqual(pricing.body.steps.map((s: { count: number }) => s.count), [2, 2]);
    const pricingRegex = await funnel({ steps: [{ name: 'view', filters: [{ name: 'path', operator: 'regex', value: ['^/pric\\w+$'] }] }, 'signup'] });
    assert.deepEqual(pricingRegex.body.steps.map((s: { count: number }) => s.count), [2, 2], JSON.stringify(pricingRegex.body));
    // A repeated step name: the second view must be a later event (u6's, 300 s on).
    const twice = await funnel({ steps: ['view', 'view'] });
    assert.deepEqual(twice.body.steps.map((s: { count: number; median_seconds_from_previous: number }) => [s.count, s.median_seconds_from_previous]), [[5, null], [1, 300]]);
    const tight = await funnel({ steps: ['view', 'signup'], window: 1200 });
    assert.deepEqual(tight.body.steps.map((s: { count: number }) => s.count), [5, 2], 'u1 (600 s) and u3 (1200 s, the edge)');
  });

  it('takes the range in the asked time zone', async () => {
    // Auckland's 2026-11-20 ends at 11:00 UTC: u2's pay (11:00:00.000) and u6 fall outside.
    const res = await funnel({ steps: ['view', 'signup', 'pay'], timezone: 'Pacific/Auckland' });
    assert.deepEqual(res.body.steps.map((s: { count: number }) => s.count), [4, 3, 1]);
  });

  it('answers funnels of event names the same from the step events as from the events', async () => {
    const insights = t.app.get(InsightsService);
    const steps = (...names: string[]) => names.map((name) => ({ name, filters: [] }));
    const day = resolveRange({ startDate: D, endDate: D });
    const cases: [Parameters<InsightsService['funnel']>[2], number, 'profile' | 'session', typeof day][] = [
      [steps('view', 'signup', 'pay'), 3_600_000, 'profile', day],
      [steps('view', 'signup', 'pay'), 3_600_000, 'session', day],
      [steps('view', 'signup'), 1_200_000, 'profile', day],
      [steps('signup', 'pay'), 60_000, 'profile', day],
      [steps('view', 'view'), 3_600_000, 'profile', day],
      [steps('view', 'signup', 'pay'), 3_600_000, 'profile', resolveRange({ startDate: D, endDate: D, timezone: 'Pacific/Auckland' })],
      [steps('visit', 'purchase'), 7 * 86_400_000, 'profile', resolveRange({ startDate: '2026-11-01', endDate: '2026-11-30' })],
      // Whole UTC days (entries from step_firsts) and cut ones (from the step events): d enters on
      // the cut 5th; a's first visit is on the cut 2nd, before its visit on the whole 3rd.
      [steps('visit', 'purchase'), 3 * 86_400_000, 'profile', resolveRange({ startDate: '2026-11-02T18:00:00Z', endDate: '2026-11-05T13:00:00Z' })],
      [steps('visit', 'purchase'), 3 * 86_400_000, 'profile', resolveRange({ startDate: '2026-11-02T06:00:00Z', endDate: '2026-11-04T13:00:00Z' })],
      [steps('view', 'signup', 'pay'), 3_600_000, 'session', resolveRange({ startDate: '2026-11-19', endDate: '2026-11-21', timezone: 'America/New_York' })],
    ];
    for (const [s, window, countBy, range] of cases) {
      const narrow = await insights.funnel(acct.accountId, range, s, window, countBy);
      const wide = await insights.funnel(acct.accountId, range, s, window, countBy, { rollups: false });
      assert.deepEqual(narrow, wide, `${s.map((x) => x.name)} ${countBy} ${window}`);
    }
    // The step tables are really what answers: the later steps come from the step events, the
    // entries (over a whole UTC day) from step_firsts. Emptied, the answer changes.
    const [first] = cases;
    const counts = async () => (await insights.funnel(acct.accountId, day, first![0], first![1], 'profile')).steps.map((s) => s.count);
    const before = await insights.funnel(acct.accountId, day, first![0], first![1], 'profile');
    assert.deepEqual(await counts(), [5, 4, 2]);
    const store = t.app.get(EVENTS_STORE);
    await store.command(`TRUNCATE TABLE ${STEP_EVENTS_TABLE}`);
    assert.deepEqual(await counts(), [5, 0, 0]);
    await store.command(`TRUNCATE TABLE ${STEP_FIRSTS_TABLE}`);
    assert.deepEqual(await counts(), [0, 0, 0]);
    // Refilled, the view on the step events refills step_firsts too.
    await store.command(`INSERT INTO ${STEP_EVENTS_TABLE} ${await viewSelect(store, STEP_EVENTS_VIEW)}`);
    assert.deepEqual(await insights.funnel(acct.accountId, day, first![0], first![1], 'profile'), before);
  });

  it('answers a retention triangle by first-seen day, week or month', async () => {
    const daily = await retention('startDate=2026-11-02&endDate=2026-11-05&period=day');
    assert.equal(daily.status, 200, JSON.stringify(daily.body));
    assert.deepEqual(daily.body.cohorts, [
      { cohort: '2026-11-02T00:00:00.000Z', size: 2, values: [2, 1, 1, 1] },
      { cohort: '2026-11-03T00:00:00.000Z', size: 3, values: [3, 1, 0] },
      { cohort: '2026-11-05T00:00:00.000Z', size: 1, values: [1] },
    ]);
    const purchases = await retention('startDate=2026-11-02&endDate=2026-11-05&period=day&returnEvent=purchase');
    assert.deepEqual(purchases.body.cohorts.map((c: { values: number[] }) => c.values), [[0, 0, 0, 1], [0, 1, 0], [0]]);
    const weekly = await retention('startDate=2026-11-02&endDate=2026-11-15&period=week');
    assert.deepEqual(weekly.body.cohorts, [{ cohort: '2026-11-02T00:00:00.000Z', size: 6, values: [6, 1] }]);
  });

  it('answers retention over any event the same from profile activity as from the events', async () => {
    const insights = t.app.get(InsightsService);
    const ranges = [
      resolveRange({ startDate: '2026-11-02', endDate: '2026-11-05', interval: 'day' }),
      resolveRange({ startDate: '2026-11-02', endDate: '2026-11-15', interval: 'week' }),
      resolveRange({ startDate: '2026-11-01', endDate: '2026-11-30', interval: 'month', timezone: 'America/New_York' }),
      resolveRange({ startDate: '2026-11-02', endDate: '2026-11-05', interval: 'day', timezone: 'Asia/Tokyo' }),
      resolveRange({ startDate: '2026-11-02', endDate: '2026-11-05', interval: 'day', timezone: 'Asia/Kathmandu' }),
      resolveRange({ startDate: '2026-11-02', endDate: '2026-11-03', interval: 'hour', timezone: 'Asia/Kolkata' }),
    ];
    for (const r of ranges) {
      const fast = await insights.retention(acct.accountId, r, 'profile');
      assert.deepEqual(fast, await insights.retention(acct.accountId, r, 'profile', undefined, undefined, { rollups: false }), r.timezone);
      assert.ok(fast.cohorts.length > 0);
    }
    // The activity is really what answers: emptied, the answer changes.
    const [daily] = ranges;
    const before = await insights.retention(acct.accountId, daily!, 'profile');
    const store = t.app.get(EVENTS_STORE);
    await store.command(`TRUNCATE TABLE ${ACTIVITY_TABLE}`);
    assert.notDeepEqual(await insights.retention(acct.accountId, daily!, 'profile'), before);
    assert.deepEqual(await insights.retention(acct.accountId, daily!, 'profile', undefined, undefined, { rollups: false }), before);
    await store.command(`INSERT INTO ${ACTIVITY_TABLE} ${await viewSelect(store, ACTIVITY_VIEW)}`);
    assert.deepEqual(await insights.retention(acct.accountId, daily!, 'profile'), before);
  });

  it('puts users in cohorts by their local day', async () => {
    const tokyo = await retention('startDate=2026-11-02&endDate=2026-11-05&period=day&timezone=Asia/Tokyo');
    assert.deepEqual(
      tokyo.body.cohorts.map((c: { cohort: string; size: number; values: number[] }) => [c.cohort, c.size, c.values]),
      [
        ['2026-11-01T15:00:00.000Z', 2, [2, 1, 1, 1]],
        ['2026-11-02T15:00:00.000Z', 2, [2, 1, 0]],
        ['2026-11-03T15:00:00.000Z', 1, [1, 0]],
        ['2026-11-04T15:00:00.000Z', 1, [1]],
      ],
    );
  });

  it('refuses bad funnels and retention queries, naming the field', async () => {
    const field = async (res: { status: number; body: any }) => {
      assert.equal(res.status, 400, JSON.stringify(res.body));
      return res.body.error.details[0].field;
    };
    assert.equal(await field(await funnel({ steps: ['only-one'] })), 'steps');
    assert.equal(await field(await funnel({ steps: ['a', 42] })), 'steps[1]');
    assert.equal(await field(await funnel({ steps: ['a', { filters: [] }] })), 'steps[1].name');
    assert.equal(await field(await funnel({ steps: ['a', { name: 'b', filters: [{ name: 'secret', operator: 'is', value: ['x'] }] }] })), 'steps[1].filters[0].name');
    assert.equal(await field(await funnel({ steps: ['a', 'b'], window: 0 })), 'window');
    // A regular expression RE2 cannot compile, named down to the value; never the engine's text.
    const badRegex = await funnel({
      steps: ['view', { name: 'signup', filters: [{ name: 'path', operator: 'is', value: ['/x'] }, { name: 'path', operator: 'regex', value: ['^/', '(["'] }] }],
    });
    assert.equal(await field(badRegex), 'steps[1].filters[1].value[1]');
    assert.equal(badRegex.body.error.code, 'validation_failed');
    assert.equal(badRegex.body.error.details[0].message, 'is not a valid regular expression (RE2 syntax): missing ]');
    assert.doesNotMatch(JSON.stringify(badRegex.body), /DB::|Exception|SELECT|CANNOT_COMPILE|Code: /);
    assert.equal(await field(await funnel({ steps: [{ name: 'view', filters: [{ name: 'path', operator: 'regex', value: ['*'] }] }, 'pay'] })), 'steps[0].filters[0].value[0]');
    assert.equal(await field(await funnel({ steps: ['a', 'b'], countBy: 'device' })), 'countBy');
    assert.equal(await field(await retention('period=year')), 'period');
  });
});
