import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROLLUP_TABLE } from '../src/infrastructure/clickhouse/schema/tables.js';
import { IngestPipelineService } from '../src/events/ingest-pipeline.service.js';
import { EVENTS_STORE, type EventsStore } from '../src/infrastructure/clickhouse/events-store.port.js';
import { rollupAnswers } from '../src/metrics/metric-query.js';
import type { Interval } from '../src/infrastructure/clickhouse/query/query-kit.js';
import type { MetricDataQuery, MetricDocument } from '../src/metrics/metric.types.js';
import { MetricsRepository } from '../src/metrics/metrics.repository.js';
import { MetricsService } from '../src/metrics/metrics.service.js';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';
import { seededRandom } from './support/seeded-random.js';

const START = Date.parse('2026-10-29T00:00:00Z');
const SPAN = 6 * 86_400_000; // across the end of US daylight saving time (2026-11-01)

/**
 * 3,000 events at millisecond times over six days: three names, two types, 40 users of whom
 * some are only anonymous, 120 sessions and some events without a session.
 */
function dataset(): Record<string, unknown>[] {
  const next = seededRandom(42);
  return Array.from({ length: 3000 }, () => {
    const user = Math.floor(next() * 50);
    const session = Math.floor(next() * 130);
    return {
      eventType: next() < 0.7 ? 'track' : 'page',
      eventName: ['click', 'view', 'buy'][Math.floor(next() * 3)],
      timestamp: START + Math.floor(next() * SPAN),
      ...(user < 40 ? { userId: `u${user}` } : { anonymousId: `a${user}` }),
      // Only identified users' events go without a session: a device's would get one assigned.
      ...(session < 120 || user >= 40 ? { sessionId: `s${session}` } : {}),
    };
  });
}

describe('metrics from the per-minute rollup', () => {
  let t: TestApp;
  let acme: Credentials;
  let service: MetricsService;
  let store: EventsStore;
  const metrics: Record<string, MetricDocument> = {};

  before(async () => {
    // The fixtures span a fixed date (the end of US daylight saving time), so the retention is
    // long enough to keep them.
    t = await startApp({ RETENTION_DAYS: '3650' });
    acme = await createAccount(t.url, 'acme');
    const globex = await createAccount(t.url, 'globex');
    const events = dataset();
    for (let i = 0; i < events.length; i += 500) {
      const batch = { events: events.slice(i, i + 500) };
      assert.equal((await call(t.url, 'POST', '/api/events/batch', { secret: acme.write, body: batch })).status, 202);
      await call(t.url, 'POST', '/api/events/batch', { secret: globex.write, body: batch });
    }
    // A crawler's events are stored but left out of metrics, raw or rolled up.
    const crawler = { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' };
    const botEvent = { eventType: 'track', eventName: 'click', timestamp: START + 5000, userId: 'crawler', sessionId: 'crawl' };
    assert.equal((await call(t.url, 'POST', '/api/events', { secret: acme.write, body: botEvent, headers: crawler })).status, 202);
    await t.app.get(IngestPipelineService).flush();
    service = t.app.get(MetricsService);
    store = t.app.get(EVENTS_STORE);
    const definitions: Record<string, Record<string, unknown>> = {
      clicks: { name: 'clicks', type: 'counter', aggregation: 'count', eventName: 'click' },
      pageEvents: { name: 'page events', type: 'counter', aggregation: 'count', eventType: 'page' },
      // Saved without a precision: approximate (uniqCombined64 sketches), exact at this size.
      users: { name: 'users', type: 'gauge', aggregation: 'unique', field: 'users' },
      usersExact: { name: 'users, exact', type: 'gauge', aggregation: 'unique', field: 'users', precision: 'exact' },
      sessionsApprox: { name: 'sessions', type: 'gauge', aggregation: 'unique', field: 'sessions', precision: 'approximate' },
      sessions: { name: 'buying sessions', type: 'gauge', aggregation: 'unique', field: 'sessions', eventName: 'buy' },
      perUser: {
        name: 'clicks per buyer',
        type: 'gauge',
        aggregation: 'max',
        formula: 'click / buyers',
        series: { buyers: { eventName: 'buy', aggregation: 'unique', field: 'users' } },
      },
      exactPerUser: {
        name: 'clicks per buyer, exact',
        type: 'gauge',
        aggregation: 'max',
        formula: 'click / buyers',
        series: { buyers: { eventName: 'buy', aggregation: 'unique', field: 'users', precision: 'exact' } },
      },
    };
    for (const [key, body] of Object.entries(definitions)) {
      const created = await call(t.url, 'POST', '/api/metrics', { secret: acme.admin, body });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      metrics[key] = (await t.app.get(MetricsRepository).find(acme.accountId, created.body.id))!;
    }
  });
  after(async () => t?.close());

  const query = (from: number, to: number, interval: Interval, timezone: string, fill: boolean): MetricDataQuery => ({
    from,
    to,
    interval,
    timezone,
    groupBy: [],
    other: false,
    fill,
  });

  // Ranges that start and end inside a minute, so the partial minutes come from raw rows.
  const cases: [Interval, string, number, number][] = [
    ['minute', 'UTC', START + 86_400_000 + 17_345, START + 86_400_000 + 3 * 3_600_000 + 59_999],
    ['hour', 'Asia/Kolkata', START + 1234, START + SPAN - 4321],
    ['hour', 'Asia/Kathmandu', START + 3 * 3_600_000 + 30_001, START + 4 * 86_400_000 + 1],
    ['day', 'America/New_York', START - 86_400_000, START + SPAN + 86_400_000],
    ['day', 'Asia/Kathmandu', START + 59_999, START + SPAN - 60_001],
    ['week', 'Europe/Berlin', START + 777, START + SPAN],
    ['month', 'UTC', START + 1, START + SPAN - 1],
  ];

  it('answers exactly what the raw events answer, in every interval and time zone', async () => {
    for (const [key, metric] of Object.entries(metrics)) {
      for (const [interval, tz, from, to] of cases) {
        for (const fill of [false, true]) {
          const q = query(from, to, interval, tz, fill);
          assert.ok(rollupAnswers(metric, q), `${key} ${interval} ${tz} should be answered by the rollup`);
          const raw = await service.data(acme.accountId, metric._id, q, { rollup: false });
          const rolled = await service.data(acme.accountId, metric._id, q, { hours: false });
          assert.deepEqual(rolled, raw, `${key} by ${interval} in ${tz}${fill ? ', filled' : ''}`);
        }
      }
    }
  });

  it('has numbers that are right, not only equal', async () => {
    const events = dataset();
    const q = query(START, START + SPAN, 'day', 'UTC', false);
    const clicks = await service.data(acme.accountId, metrics.clicks!._id, q);
    assert.equal(clicks.totals.value, events.filter((e) => e.eventName === 'click').length);
    assert.equal(metrics.users!.precision, 'approximate', 'a new unique count is approximate unless it says');
    assert.equal(metrics.perUser!.series!.buyers!.precision, 'approximate');
    assert.equal(metrics.usersExact!.precision, 'exact');
    for (const key of ['users', 'usersExact']) {
      const users = await service.data(acme.accountId, metrics[key]!._id, q);
      assert.equal(users.totals.value, new Set(events.map((e) => e.userId ?? e.anonymousId)).size, key);
    }
    const buyers = await service.data(acme.accountId, metrics.sessions!._id, q);
    const buyingSessions = new Set(events.filter((e) => e.eventName === 'buy' && e.sessionId).map((e) => e.sessionId));
    assert.equal(buyers.totals.value, buyingSessions.size);
  });

  it('leaves metrics with filters or groups to the raw events', async () => {
    const q = query(START, START + SPAN, 'day', 'UTC', false);
    const filtered = { ...metrics.clicks!, filters: [{ field: 'userId', op: 'eq' as const, value: 'u1' }] };
    assert.equal(rollupAnswers(filtered, q), false);
    assert.equal(rollupAnswers(metrics.clicks!, { ...q, groupBy: ['browser'] }), false);
    assert.equal(rollupAnswers({ ...metrics.clicks!, aggregation: 'sum', field: 'price' }, q), false);
    assert.equal(rollupAnswers(metrics.clicks!, query(START + 1000, START + 50_000, 'minute', 'UTC', false)), false, 'no whole minute');
  });

  it('counts a retried insert once, in the rollup as in the events', async () => {
    const row = {
      account_id: acme.accountId,
      event_id: '00000000-0000-4000-8000-000000000001',
      event_type: 'track',
      event_name: 'click',
      timestamp: '2026-10-30 10:00:00.000',
      received_at: '2026-10-30 10:00:00.000',
      session_id: 's1',
      user_id: 'u-retried',
      properties: '{}',
    };
    const rows = Buffer.from(`${JSON.stringify(row)}\n`);
    await store.insertJsonEachRow('events', rows, { dedupToken: 'retry-token-1' });
    await store.insertJsonEachRow('events', rows, { dedupToken: 'retry-token-1' });
    const q = query(START, START + SPAN, 'hour', 'UTC', false);
    const raw = await service.data(acme.accountId, metrics.clicks!._id, q, { rollup: false });
    assert.equal(raw.totals.value, dataset().filter((e) => e.eventName === 'click').length + 1);
    assert.deepEqual(await service.data(acme.accountId, metrics.clicks!._id, q), raw);
  });

  it('really reads the rollup (emptying it changes the answer)', async () => {
    const q = query(START, START + SPAN, 'day', 'UTC', false);
    await store.command(`TRUNCATE TABLE ${ROLLUP_TABLE}`);
    const rolled = await service.data(acme.accountId, metrics.clicks!._id, q, { hours: false });
    assert.equal(rolled.totals.value, 0);
    for (const key of ['users', 'usersExact', 'sessionsApprox']) {
      assert.equal((await service.data(acme.accountId, metrics[key]!._id, q, { hours: false })).totals.value, 0, key);
      assert.ok(Number((await service.data(acme.accountId, metrics[key]!._id, q, { rollup: false })).totals.value) > 0, key);
    }
  });
});
