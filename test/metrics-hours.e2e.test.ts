import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IngestPipelineService } from '../src/events/ingest-pipeline.service.js';
import { EVENTS_STORE, type EventsStore } from '../src/infrastructure/clickhouse/events-store.port.js';
import type { Interval } from '../src/infrastructure/clickhouse/query/query-kit.js';
import { METRIC_HOUR_MARKS_TABLE, METRIC_HOURS_TABLE, METRIC_SPANS_TABLE } from '../src/infrastructure/clickhouse/schema/tables.js';
import { dayKey, hourKey, MetricHoursService, wholeHourOffsets } from '../src/metrics/metric-hours.service.js';
import { hourFillQuery } from '../src/metrics/metric-query.js';
import type { MetricDataQuery, MetricDocument } from '../src/metrics/metric.types.js';
import { MetricsRepository } from '../src/metrics/metrics.repository.js';
import { MetricsService } from '../src/metrics/metrics.service.js';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';
import { seededRandom } from './support/seeded-random.js';

const HOUR = 3_600_000;
const START = Date.parse('2026-10-29T00:00:00Z');
const SPAN = 6 * 86_400_000; // across the end of US daylight saving time (2026-11-01)

/**
 * 4,000 events at millisecond times over six days: three names, 60 users (some only anonymous),
 * a plan and a country to group by, and a whole-number price (sums of whole numbers are exact
 * in any order; the raw sums themselves are added up by several threads in no fixed order).
 * Some events lack the price or carry text in it.
 */
function dataset(): Record<string, unknown>[] {
  const next = seededRandom(7);
  return Array.from({ length: 4000 }, () => {
    const user = Math.floor(next() * 60);
    const r = next();
    return {
      eventType: 'track',
      eventName: ['click', 'view', 'buy'][Math.floor(next() * 3)],
      timestamp: START + Math.floor(next() * SPAN),
      ...(user < 45 ? { userId: `u${user}` } : { anonymousId: `a${user}` }),
      sessionId: `s${Math.floor(next() * 150)}`,
      properties: {
        plan: ['free', 'pro', 'team', 'enterprise'][Math.floor(next() * 4)],
        country: ['DE', 'FR', 'US', 'IN', 'BR'][Math.floor(next() * 5)],
        ...(r < 0.9 ? { price: Math.floor(next() * 500) } : r < 0.95 ? { price: 'n/a' } : {}),
      },
    };
  });
}

describe("metrics from the metric's hourly states", () => {
  let t: TestApp;
  let acme: Credentials;
  let service: MetricsService;
  let hours: MetricHoursService;
  let store: EventsStore;
  const metrics: Record<string, MetricDocument> = {};

  before(async () => {
    t = await startApp({ RETENTION_DAYS: '3650' });
    acme = await createAccount(t.url, 'acme');
    const globex = await createAccount(t.url, 'globex');
    const events = dataset();
    for (let i = 0; i < events.length; i += 500) {
      const batch = { events: events.slice(i, i + 500) };
      assert.equal((await call(t.url, 'POST', '/api/events/batch', { secret: acme.write, body: batch })).status, 202);
      await call(t.url, 'POST', '/api/events/batch', { secret: globex.write, body: batch });
    }
    await t.app.get(IngestPipelineService).flush();
    service = t.app.get(MetricsService);
    hours = t.app.get(MetricHoursService);
    store = t.app.get(EVENTS_STORE);
    const dims = { dimensions: ['plan', 'country'] };
    const definitions: Record<string, Record<string, unknown>> = {
      buys: { name: 'buys', type: 'counter', aggregation: 'count', eventName: 'buy', ...dims },
      proClicks: {
        name: 'pro clicks',
        type: 'counter',
        aggregation: 'count',
        eventName: 'click',
        filters: [{ field: 'plan', op: 'in', value: ['pro', 'team'] }],
        ...dims,
      },
      revenue: { name: 'revenue', type: 'counter', aggregation: 'sum', eventName: 'buy', field: 'price', ...dims },
      avgPrice: { name: 'average price', type: 'gauge', aggregation: 'avg', field: 'price', ...dims },
      minPrice: { name: 'cheapest', type: 'gauge', aggregation: 'min', field: 'price', ...dims },
      maxPrice: { name: 'dearest', type: 'gauge', aggregation: 'max', eventName: 'view', field: 'price', ...dims },
      p50: { name: 'median price', type: 'gauge', aggregation: 'p50', field: 'price', ...dims },
      p95: { name: 'p95 price', type: 'gauge', aggregation: 'p95', eventName: 'buy', field: 'price', ...dims },
      users: { name: 'users', type: 'gauge', aggregation: 'unique', field: 'users', ...dims },
      usersExact: { name: 'users, exact', type: 'gauge', aggregation: 'unique', field: 'users', precision: 'exact', ...dims },
      sessions: {
        name: 'buying sessions outside the US',
        type: 'gauge',
        aggregation: 'unique',
        field: 'sessions',
        eventName: 'buy',
        precision: 'exact',
        filters: [{ field: 'country', op: 'neq', value: 'US' }],
        ...dims,
      },
    };
    for (const [key, body] of Object.entries(definitions)) {
      const created = await call(t.url, 'POST', '/api/metrics', { secret: acme.admin, body });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      metrics[key] = (await t.app.get(MetricsRepository).find(acme.accountId, created.body.id))!;
    }
  });
  after(async () => t?.close());

  const query = (from: number, to: number, interval: Interval, timezone: string, extra: Partial<MetricDataQuery> = {}): MetricDataQuery => ({
    from,
    to,
    interval,
    timezone,
    groupBy: [],
    other: false,
    fill: false,
    ...extra,
  });

  // Ranges that start and end inside an hour, so the partial hours come from raw rows. Those
  // holding whole UTC days read the days' rows in their totals, and in their points where the
  // buckets are whole UTC days (UTC, and London at UTC's offset from 25 October).
  const cases: [Interval, string, number, number][] = [
    ['hour', 'UTC', START + 1234, START + 2 * 86_400_000 + 30 * 60_000],
    ['day', 'UTC', START + 3 * HOUR + 5, START + SPAN - 5 * HOUR - 7],
    ['week', 'Europe/London', START + 10 * HOUR, START + SPAN],
    ['hour', 'America/New_York', START + 86_400_000 + 17_345, START + SPAN - 4321],
    ['day', 'America/New_York', START - 86_400_000, START + SPAN + 86_400_000],
    ['day', 'Europe/Berlin', START + 59_999, START + SPAN - 60_001],
    ['week', 'Asia/Tokyo', START + 777, START + SPAN],
    ['month', 'UTC', START + 1, START + SPAN - 1],
  ];
  const groupings: Partial<MetricDataQuery>[] = [
    {},
    { groupBy: ['plan'] },
    { groupBy: ['plan', 'country'], limit: 3, other: true },
    { groupBy: ['country'], limit: 2, other: false, fill: true },
    { groupBy: ['plan'], limit: 2 },
  ];

  it('answers exactly what the raw events answer, in every interval, whole-hour time zone and grouping', async () => {
    let compared = 0;
    for (const [key, metric] of Object.entries(metrics)) {
      for (const [interval, tz, from, to] of cases) {
        for (const extra of groupings) {
          const q = query(from, to, interval, tz, extra);
          const raw = await service.data(acme.accountId, metric._id, q, { rollup: false });
          const fast = await service.data(acme.accountId, metric._id, q);
          assert.deepEqual(fast, raw, `${key} by ${interval} in ${tz}, ${JSON.stringify(extra)}`);
          compared++;
        }
      }
    }
    assert.equal(compared, 11 * 8 * 5);
    const stats = hours.stats();
    assert.ok(stats.filledHours > 0, 'hours were computed');
    assert.ok(stats.filledDays > 0, 'days were merged');
    // Asked again, every hour is there already.
    const before = hours.stats().fills;
    await service.data(acme.accountId, metrics.p95!._id, query(START + 1234, START + 2 * 86_400_000 + 30 * 60_000, 'hour', 'UTC'));
    assert.equal(hours.stats().fills, before, 'nothing computed twice');
  });

  it('has numbers that are right, not only equal', async () => {
    const events = dataset().filter((e) => e.eventName === 'buy');
    const prices = events.map((e) => (e.properties as { price?: unknown }).price).filter((p): p is number => typeof p === 'number');
    const q = query(START, START + SPAN, 'day', 'UTC');
    assert.equal((await service.data(acme.accountId, metrics.buys!._id, q)).totals.value, events.length);
    assert.equal((await service.data(acme.accountId, metrics.revenue!._id, q)).totals.value, prices.reduce((a, b) => a + b, 0));
    const sorted = [...prices].sort((a, b) => a - b);
    const rank = 0.95 * (sorted.length - 1);
    const p95 = sorted[Math.floor(rank)]! + (rank - Math.floor(rank)) * (sorted[Math.ceil(rank)]! - sorted[Math.floor(rank)]!);
    assert.ok(Math.abs(Number((await service.data(acme.accountId, metrics.p95!._id, q)).totals.value) - p95) < 1e-9);
  });

  it('leaves time zones with half-hour offsets, minute intervals and formulas to the other paths', async () => {
    assert.equal(wholeHourOffsets('Asia/Kolkata', START, START + SPAN), false);
    assert.equal(wholeHourOffsets('Australia/Lord_Howe', Date.parse('2026-04-01T00:00:00Z'), Date.parse('2026-04-10T00:00:00Z')), false);
    assert.equal(wholeHourOffsets('America/New_York', START, START + SPAN), true);
    const m = metrics.p95!;
    assert.equal(await hours.span(m, acme.accountId, query(START, START + SPAN, 'hour', 'Asia/Kolkata')), null);
    assert.equal(await hours.span(m, acme.accountId, query(START, START + SPAN, 'minute', 'UTC')), null);
    assert.equal(await hours.span({ ...m, formula: 'buy / click' }, acme.accountId, query(START, START + SPAN, 'day', 'UTC')), null);
    assert.equal(await hours.span(m, acme.accountId, query(START, START + 2 * HOUR, 'hour', 'UTC')), null, 'too short to be worth it');
    // The current hour and the one before are not sealed: they come from raw rows.
    const now = START + 3 * 86_400_000 + 30 * 60_000;
    const span = await hours.span(m, acme.accountId, query(START, now, 'hour', 'UTC'), now);
    assert.deepEqual(span && { from: span.from, to: span.to }, { from: START, to: START + 3 * 86_400_000 - HOUR });
  });

  it('computes an hour again after a late event lands in it', async () => {
    const q = query(START, START + SPAN, 'hour', 'UTC', { groupBy: ['plan'] });
    const before = await service.data(acme.accountId, metrics.revenue!._id, q);
    const late = { eventType: 'track', eventName: 'buy', timestamp: START + 5 * HOUR + 1000, userId: 'late', properties: { plan: 'pro', price: 1000 } };
    assert.equal((await call(t.url, 'POST', '/api/events', { secret: acme.write, body: late })).status, 202);
    await t.app.get(IngestPipelineService).flush();
    const { refilledHours, filledDays } = hours.stats();
    const after = await service.data(acme.accountId, metrics.revenue!._id, q);
    assert.equal(Number(after.totals.value), Number(before.totals.value) + 1000);
    assert.deepEqual(after, await service.data(acme.accountId, metrics.revenue!._id, q, { rollup: false }));
    assert.equal(hours.stats().refilledHours, refilledHours + 1, 'only the late event\'s hour was computed again');
    assert.equal(hours.stats().filledDays, filledDays + 1, 'and its day merged again');
  });

  it('keeps states apart when a definition changes', async () => {
    const q = query(START, START + SPAN, 'day', 'UTC');
    const m = metrics.proClicks!;
    const first = await service.data(acme.accountId, m._id, q);
    const replaced = await call(t.url, 'PUT', `/api/metrics/${m._id}`, {
      secret: acme.admin,
      body: { name: m.name, type: 'counter', aggregation: 'count', eventName: 'click', filters: [{ field: 'plan', op: 'eq', value: 'free' }], dimensions: m.dimensions },
    });
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    const second = await service.data(acme.accountId, m._id, q);
    assert.notEqual(second.totals.value, first.totals.value);
    assert.deepEqual(second, await service.data(acme.accountId, m._id, q, { rollup: false }));
  });

  it('really reads the hourly states (emptying them changes the answer)', async () => {
    const q = query(START, START + SPAN, 'day', 'UTC');
    const m = metrics.usersExact!;
    assert.ok(Number((await service.data(acme.accountId, m._id, q)).totals.value) > 0);
    // The marks say the hours are computed; without their states the answer is the raw edges' only.
    await store.command(`TRUNCATE TABLE ${METRIC_HOURS_TABLE}`);
    assert.equal((await service.data(acme.accountId, m._id, q)).totals.value, 0);
    await store.command(`TRUNCATE TABLE ${METRIC_HOUR_MARKS_TABLE}`);
  });

  it("really reads the days' rows (emptying them changes the answer)", async () => {
    // (An average: a unique count's range asked again reads its merged states instead, and a
    // sum's total adds its points up.)
    const q = query(START - 1, START + SPAN + 1, 'hour', 'UTC');
    const m = metrics.avgPrice!;
    const expected = await service.data(acme.accountId, m._id, q, { rollup: false });
    assert.deepEqual(await service.data(acme.accountId, m._id, q), expected);
    // Newer rows with empty states replace the days' (not their hours'): the total, merged from
    // the six whole days, has no value left (the raw edges hold no event); the points, one an hour, stay.
    await store.command(
      `INSERT INTO ${METRIC_HOURS_TABLE} (account_id, cache_key, hour, gkey, computed_at, n, value)
       SELECT account_id, cache_key, hour, gkey, computed_at + 1, 0, 0 FROM ${METRIC_HOURS_TABLE} FINAL WHERE cache_key = {k:String}`,
      { k: dayKey(hourKey(m, [])) },
    );
    const emptied = await service.data(acme.accountId, m._id, q);
    assert.deepEqual(emptied.series[0]!.points, expected.series[0]!.points);
    assert.ok(Number(expected.totals.value) > 0);
    assert.ok(!(Number(emptied.totals.value) > 0), `${emptied.totals.value}`);
  });

  it("reads a day's stored value where the day is a bucket", async () => {
    const q = query(START, START + SPAN, 'day', 'UTC');
    const m = metrics.p95!;
    const expected = await service.data(acme.accountId, m._id, q, { rollup: false });
    assert.deepEqual(await service.data(acme.accountId, m._id, q), expected);
    const day = START + 2 * 86_400_000;
    await store.command(
      `INSERT INTO ${METRIC_HOURS_TABLE} (account_id, cache_key, hour, gkey, computed_at, n, value, p95_state)
       SELECT account_id, cache_key, hour, gkey, computed_at + 1, n, -1, p95_state FROM ${METRIC_HOURS_TABLE} FINAL
       WHERE cache_key = {k:String} AND hour = toDateTime({d:Int64}, 'UTC')`,
      { k: dayKey(hourKey(m, [])), d: day / 1000 },
    );
    const changed = await service.data(acme.accountId, m._id, q);
    const point = changed.series[0]!.points.find((p) => Date.parse(p.t) === day);
    assert.equal(point?.value, -1, 'the stored value is the point');
    assert.deepEqual(changed.totals, expected.totals, 'the total merges the states');
    // Likewise an hour of an hourly series.
    const hourly = query(START, START + SPAN, 'hour', 'UTC');
    await service.data(acme.accountId, m._id, hourly);
    const hour = START + 30 * HOUR;
    await store.command(
      `INSERT INTO ${METRIC_HOURS_TABLE} (account_id, cache_key, hour, gkey, computed_at, n, value, p95_state)
       SELECT account_id, cache_key, hour, gkey, computed_at + 1, n, -2, p95_state FROM ${METRIC_HOURS_TABLE} FINAL
       WHERE cache_key = {k:String} AND hour = toDateTime({h:Int64}, 'UTC')`,
      { k: hourKey(m, []), h: hour / 1000 },
    );
    const hourPoints = (await service.data(acme.accountId, m._id, hourly)).series[0]!.points;
    assert.equal(hourPoints.find((p) => Date.parse(p.t) === hour)?.value, -2);
  });

  it('leaves a grouping with more than 1,000 groups an hour to the raw events', async () => {
    // 1,500 buyers in one hour of the last day: grouped by user, the states would be one per event.
    const at = START + SPAN - 3 * HOUR;
    for (let i = 0; i < 1500; i += 500) {
      const events = Array.from({ length: 500 }, (_, j) => ({ eventType: 'track', eventName: 'buy', timestamp: at + i + j, userId: `wide-${i + j}`, properties: { price: 1 } }));
      assert.equal((await call(t.url, 'POST', '/api/events/batch', { secret: acme.write, body: { events } })).status, 202);
    }
    await t.app.get(IngestPipelineService).flush();
    const created = await call(t.url, 'POST', '/api/metrics', {
      secret: acme.admin,
      body: { name: 'revenue by buyer', type: 'counter', aggregation: 'sum', eventName: 'buy', field: 'price', dimensions: ['userId'] },
    });
    assert.equal(created.status, 201);
    const metric = (await t.app.get(MetricsRepository).find(acme.accountId, created.body.id))!;
    const q = query(START, START + SPAN, 'day', 'UTC', { groupBy: ['userId'], limit: 5, other: true });
    const wide = hours.stats().tooManyGroups;
    assert.equal(await hours.span(metric, acme.accountId, q), null);
    assert.equal(hours.stats().tooManyGroups, wide + 1);
    assert.deepEqual(await service.data(acme.accountId, metric._id, q), await service.data(acme.accountId, metric._id, q, { rollup: false }));
    // Not grouped, the same metric has hourly states.
    assert.ok(await hours.span(metric, acme.accountId, { ...q, groupBy: [], limit: undefined }));
  });

  it('computes again whole a fill cut short before its marks (a process killed midway)', async () => {
    const q = query(START, START + SPAN, 'day', 'UTC', { groupBy: ['country'] });
    const m = metrics.p50!;
    const key = hourKey(m, q.groupBy);
    // What a killed fill leaves: states for part of the hours, written twice, and no mark.
    const partial = hourFillQuery(m, acme.accountId, q.groupBy, key, [{ from: START, to: START + 2 * 86_400_000 }], Date.now() - 10 * 60_000);
    await store.command(partial.sql, partial.params);
    await store.command(partial.sql, partial.params);
    assert.deepEqual(await service.data(acme.accountId, m._id, q), await service.data(acme.accountId, m._id, q, { rollup: false }));
  });

  it("merges a unique count's range asked again into one state per group, and again after a late event", async () => {
    // (A range no other test asks.)
    const q = query(START + 2 * HOUR + 5, START + SPAN - 3 * HOUR, 'hour', 'UTC', { groupBy: ['plan'] });
    const m = metrics.usersExact!;
    const ask = () => service.data(acme.accountId, m._id, q);
    const raw = await service.data(acme.accountId, m._id, q, { rollup: false });
    const merged = hours.stats().mergedSpans;
    assert.deepEqual(await ask(), raw, 'asked once: from days and hours');
    assert.equal(hours.stats().mergedSpans, merged);
    assert.deepEqual(await ask(), raw, 'asked again: merged');
    assert.deepEqual(await ask(), raw, 'and read merged');
    assert.equal(hours.stats().mergedSpans, merged + 1, 'merged once');
    // Without the merged rows (their mark stays), the totals are the raw edges' only.
    await store.command(`TRUNCATE TABLE ${METRIC_SPANS_TABLE}`);
    const emptied = await ask();
    // (The series are ranked by their totals, so compared by group.)
    const pointsByGroup = (d: typeof raw) => Object.fromEntries(d.series.map((s) => [JSON.stringify(s.group), s.points]));
    assert.deepEqual(pointsByGroup(emptied), pointsByGroup(raw), 'the points read hours');
    assert.ok(Number(emptied.totals.value) < Number(raw.totals.value), `${emptied.totals.value} < ${raw.totals.value}`);
    // A late event of a new user in a sealed hour: the hour, its day and the span are computed again.
    const late = { eventType: 'track', eventName: 'view', timestamp: START + 50 * HOUR + 7, userId: 'late-newcomer', properties: { plan: 'team' } };
    assert.equal((await call(t.url, 'POST', '/api/events', { secret: acme.write, body: late })).status, 202);
    await t.app.get(IngestPipelineService).flush();
    const after = await ask();
    assert.equal(Number(after.totals.value), Number(raw.totals.value) + 1);
    assert.deepEqual(after, await service.data(acme.accountId, m._id, q, { rollup: false }));
    assert.equal(hours.stats().mergedSpans, merged + 2, 'merged again');
  });
});
