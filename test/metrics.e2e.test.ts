import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IngestPipelineService } from '../src/events/ingest-pipeline.service.js';
import { MetricsRepository } from '../src/metrics/metrics.repository.js';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';

const H = 3_600_000;
const BASE = Date.parse('2026-11-16T00:00:00Z'); // a Monday

/**
 * A crafted data set with hand-computed answers: 10 message_sent (campaign i%2, user i%3,
 * charactersCount 100+i) one per hour from BASE, and 6 message_delivered in the first 6 hours.
 */
function dataset() {
  const events: Record<string, unknown>[] = [];
  for (let i = 0; i < 10; i++) {
    events.push({
      eventType: 'message',
      eventName: 'message_sent',
      timestamp: BASE + i * H,
      userId: `u${i % 3}`,
      sessionId: `s${i % 4}`,
      properties: { campaignId: String(i % 2), groupId: '456', charactersCount: 100 + i, plan: { tier: i < 5 ? 'pro' : 'free' } },
    });
  }
  for (let i = 0; i < 6; i++) {
    events.push({ eventType: 'message', eventName: 'message_delivered', timestamp: BASE + i * H + 1000, userId: `u${i % 3}`, properties: { campaignId: String(i % 2), groupId: '456' } });
  }
  return events;
}

describe('custom metrics', () => {
  let t: TestApp;
  let acme: Credentials;
  let globex: Credentials;

  const define = async (body: Record<string, unknown>, secret = acme.admin) => call(t.url, 'POST', '/api/metrics', { secret, body });
  const data = async (id: string, query: string, secret = acme.read) => call(t.url, 'GET', `/api/metrics/${id}/data?${query}`, { secret });
  const range = `from=${BASE}&to=${BASE + 24 * H}`;

  before(async () => {
    // The fixtures start on a fixed Monday, so the retention is long enough to keep them.
    t = await startApp({ RETENTION_DAYS: '3650' });
    acme = await createAccount(t.url, 'acme');
    globex = await createAccount(t.url, 'globex');
    assert.equal((await call(t.url, 'POST', '/api/events/batch', { secret: acme.write, body: { events: dataset() } })).status, 202);
    // The same events in another account must never leak into acme's numbers.
    await call(t.url, 'POST', '/api/events/batch', { secret: globex.write, body: { events: dataset() } });
    await t.app.get(IngestPipelineService).flush();
  });
  after(async () => t?.close());

  it('takes the spec example exactly as written and answers the delivery rate per campaign', async () => {
    const created = await define({
      name: 'Message Delivery Rate',
      type: 'gauge',
      formula: '(delivered / sent) * 100',
      unit: 'percentage',
      aggregation: 'avg',
      dimensions: ['campaignId', 'groupId'],
    });
    assert.equal(created.status, 201);
    // Bare names count events of that name: there are no "delivered" / "sent" events, so no value.
    const bare = await data(created.body.id, `${range}&interval=day`);
    assert.equal(bare.status, 200);
    assert.deepEqual(bare.body.totals, { value: null });

    const withSeries = await define({
      name: 'Delivery rate',
      type: 'gauge',
      formula: '(delivered / sent) * 100',
      unit: 'percentage',
      aggregation: 'avg',
      dimensions: ['campaignId', 'groupId'],
      series: { delivered: { eventName: 'message_delivered', aggregation: 'count' }, sent: { eventName: 'message_sent', aggregation: 'count' } },
    });
    const byCampaign = await data(withSeries.body.id, `${range}&interval=day&groupBy=campaignId`);
    assert.deepEqual(
      byCampaign.body.series.map((s: any) => [s.group.campaignId, s.points.map((p: any) => p.value), s.total]),
      [
        ['0', [60], 60],
        ['1', [60], 60],
      ],
    );
    // Hourly: hour 0-5 have 1 sent and 1 delivered (100 %), hours 6-9 have 1 sent, 0 delivered (0 %).
    const hourly = await data(withSeries.body.id, `from=${BASE}&to=${BASE + 10 * H}&interval=hour`);
    assert.deepEqual(hourly.body.series[0].points.map((p: any) => p.value), [100, 100, 100, 100, 100, 100, 0, 0, 0, 0]);
    assert.equal(hourly.body.totals.value, 60, 'avg of the ten hourly rates');
  });

  it('aggregates count, sum, avg, min, max, unique users and sessions, and percentiles exactly', async () => {
    const expect = {
      count: 10,
      sum: 1045,
      avg: 104.5,
      min: 100,
      max: 109,
      p50: 104.5, // interpolated between the closest ranks
      p90: 108.1,
      p99: 108.91,
    } as Record<string, number>;
    for (const [aggregation, value] of Object.entries(expect)) {
      const m = await define({ name: aggregation, type: 'gauge', aggregation, eventName: 'message_sent', field: 'charactersCount' });
      assert.equal(m.status, 201, JSON.stringify(m.body));
      const r = await data(m.body.id, `${range}&interval=day`);
      assert.ok(Math.abs(r.body.totals.value - value) < 1e-9, `${aggregation}: ${r.body.totals.value} != ${value}`);
    }
    const none = await define({ name: 'nothing', type: 'counter', aggregation: 'count', eventName: 'never_sent' });
    assert.deepEqual((await data(none.body.id, range)).body.totals, { value: 0 }, 'counting no events gives 0');
    const users = await define({ name: 'users', type: 'gauge', aggregation: 'unique', eventName: 'message_sent' });
    assert.equal((await data(users.body.id, range)).body.totals.value, 3);
    const sessions = await define({ name: 'sessions', type: 'gauge', aggregation: 'unique', field: 'sessions' });
    assert.equal((await data(sessions.body.id, range)).body.totals.value, 4);
  });

  it('filters on event fields and nested properties with every operator', async () => {
    const cases: [Record<string, unknown>, number][] = [
      [{ field: 'campaignId', op: 'eq', value: '1' }, 5],
      [{ field: 'campaignId', op: 'neq', value: '1' }, 5],
      [{ field: 'userId', op: 'in', value: ['u0', 'u1'] }, 7],
      [{ field: 'userId', op: 'not_in', value: ['u0'] }, 6],
      [{ field: 'properties.plan.tier', op: 'eq', value: 'pro' }, 5],
      [{ field: 'plan.tier', op: 'contains', value: 're' }, 5],
      [{ field: 'plan.tier', op: 'not_contains', value: 're' }, 5],
      [{ field: 'plan.tier', op: 'starts_with', value: 'p' }, 5],
      [{ field: 'charactersCount', op: 'gt', value: 107 }, 2],
      [{ field: 'charactersCount', op: 'gte', value: 107 }, 3],
      [{ field: 'charactersCount', op: 'lt', value: 102 }, 2],
      [{ field: 'charactersCount', op: 'lte', value: 102 }, 3],
      [{ field: 'charactersCount', op: 'eq', value: 105 }, 1],
      [{ field: 'charactersCount', op: 'exists' }, 10],
      [{ field: 'missing', op: 'not_exists' }, 10],
      [{ field: 'userId', op: 'regex', value: '^u[12]$' }, 6],
    ];
    for (const [filter, count] of cases) {
      const m = await define({ name: 'f', type: 'counter', aggregation: 'count', eventName: 'message_sent', filters: [filter] });
      assert.equal(m.status, 201, JSON.stringify(m.body));
      assert.equal((await data(m.body.id, range)).body.totals.value, count, JSON.stringify(filter));
    }
  });

  it('buckets in the asked time zone, zero-fills, and keeps the top N groups with the rest as other', async () => {
    const m = await define({ name: 'sent', type: 'counter', aggregation: 'count', eventName: 'message_sent', dimensions: ['userId'] });
    // New York is UTC-5 in November: the 10 hourly events (00:00-09:00 UTC) fall on two local days.
    const ny = await data(m.body.id, `${range}&interval=day&timezone=America/New_York`);
    assert.deepEqual(
      ny.body.series[0].points.map((p: any) => [p.t, p.value]),
      [
        ['2026-11-15T05:00:00.000Z', 5],
        ['2026-11-16T05:00:00.000Z', 5],
      ],
    );
    const filled = await data(m.body.id, `from=${BASE}&to=${BASE + 12 * H}&interval=hour&fill=true`);
    assert.equal(filled.body.series[0].points.length, 12);
    assert.deepEqual(filled.body.series[0].points.slice(9).map((p: any) => p.value), [1, 0, 0]);
    const top = await data(m.body.id, `${range}&groupBy=userId&limit=1&other=true`);
    assert.deepEqual(
      top.body.series.map((s: any) => [s.group, s.total]),
      [
        [{ userId: 'u0' }, 4],
        [{ __other: 'true' }, 6],
      ],
    );
    const topOnly = await data(m.body.id, `${range}&groupBy=userId&limit=2`);
    assert.deepEqual(topOnly.body.series.map((s: any) => s.total), [4, 3]);
    const week = await data(m.body.id, `from=${BASE - 3 * 24 * H}&to=${BASE + 3 * 24 * H}&interval=week`);
    assert.deepEqual(week.body.series[0].points.map((p: any) => p.t), ['2026-11-16T00:00:00.000Z']);
  });

  it('ranks groups of a percentile metric by their exact totals', async () => {
    const m = await define({ name: 'p50 by user', type: 'gauge', aggregation: 'p50', eventName: 'message_sent', field: 'charactersCount', dimensions: ['userId'] });
    // u0: 100,103,106,109 → 104.5; u1: 101,104,107 → 104; u2: 102,105,108 → 105
    const r = await data(m.body.id, `${range}&interval=day&groupBy=userId&limit=2`);
    assert.deepEqual(
      r.body.series.map((s: any) => [s.group.userId, s.total, s.points.map((p: any) => p.value)]),
      [
        ['u2', 105, [105]],
        ['u0', 104.5, [104.5]],
      ],
    );
    assert.equal(r.body.totals.value, 104.5, 'the overall p50 covers every event of the range');
    const withOther = await data(m.body.id, `${range}&interval=day&groupBy=userId&limit=2&other=true`);
    assert.deepEqual(withOther.body.series.map((s: any) => [s.group, s.total]), [
      [{ userId: 'u2' }, 105],
      [{ userId: 'u0' }, 104.5],
      [{ __other: 'true' }, 104],
    ]);
  });

  it('answers histogram bucket counts', async () => {
    const m = await define({ name: 'length', type: 'histogram', aggregation: 'count', eventName: 'message_sent', field: 'charactersCount', buckets: [102, 105, 108] });
    assert.equal(m.status, 201, JSON.stringify(m.body));
    const r = await data(m.body.id, range);
    assert.deepEqual(r.body.series[0].histogram, [
      { from: null, to: 102, count: 2 },
      { from: 102, to: 105, count: 3 },
      { from: 105, to: 108, count: 3 },
      { from: 108, to: null, count: 2 },
    ]);
  });

  it('never lets a formula, filter or grouping inject SQL', async () => {
    const hostile = ["x' OR 1=1 --", "'); DROP TABLE events; --", 'a\\', '`x`', '"; SELECT 1'];
    for (const h of hostile) {
      const viaFilter = await define({ name: 'h', type: 'counter', aggregation: 'count', filters: [{ field: h, op: 'eq', value: h }], dimensions: [h] });
      assert.equal(viaFilter.status, 201, 'a hostile property name is just a (missing) property');
      const r = await data(viaFilter.body.id, `${range}&groupBy=${encodeURIComponent(h)}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.series, []);
    }
    for (const formula of ["sent; DROP TABLE events", "sent' OR '1", 'sleep(3)', 'a.b', 'a[0]', 'a ? b : c', 'a == b', 'x(1)', '"text"']) {
      const r = await define({ name: 'h', type: 'gauge', aggregation: 'avg', formula });
      assert.equal(r.status, 400, formula);
      assert.equal(r.body.error.details[0].field, 'formula', formula);
    }
    const total = await define({ name: 'all', type: 'counter', aggregation: 'count' });
    assert.equal((await data(total.body.id, range)).body.totals.value, 16, 'the events table is intact');
  });

  it('divides by zero into null, not an error', async () => {
    const m = await define({ name: 'ratio', type: 'gauge', aggregation: 'max', formula: 'message_delivered / nothing', dimensions: [] });
    const r = await data(m.body.id, `${range}&interval=day`);
    assert.equal(r.status, 200);
    assert.equal(r.body.series[0].points[0].value, null);
  });

  it('validates definitions and queries, naming the field', async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ type: 'counter', aggregation: 'count' }, 'name'],
      [{ name: 'x', type: 'meter', aggregation: 'count' }, 'type'],
      [{ name: 'x', type: 'gauge', aggregation: 'median' }, 'aggregation'],
      [{ name: 'x', type: 'gauge', aggregation: 'sum', eventName: 'a' }, 'field'],
      [{ name: 'x', type: 'gauge', aggregation: 'p95', formula: 'a / b' }, 'aggregation'],
      [{ name: 'x', type: 'gauge', aggregation: 'avg', formula: 'a / b', series: { a: { aggregation: 'sum' } } }, 'series.a.field'],
      [{ name: 'x', type: 'gauge', aggregation: 'avg', formula: 'a', series: { zz: { aggregation: 'count' } } }, 'series.zz'],
      [{ name: 'x', type: 'counter', aggregation: 'count', filters: [{ field: 'a', op: 'like', value: 1 }] }, 'filters.0.op'],
      [{ name: 'x', type: 'counter', aggregation: 'count', filters: [{ field: 'a', op: 'gt', value: 'ten' }] }, 'filters[0].value'],
      [{ name: 'x', type: 'counter', aggregation: 'count', filters: [{ field: 'a', op: 'in', value: 'ten' }] }, 'filters[0].value'],
      [{ name: 'x', type: 'histogram', aggregation: 'count', field: 'n', buckets: [3, 1] }, 'buckets'],
      [{ name: 'x', type: 'counter', aggregation: 'count', dimensions: ['a.b.c.d.e.f.g'] }, 'dimensions[0]'],
    ];
    for (const [body, field] of bad) {
      const r = await define(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.ok(
        r.body.error.details.some((d: { field: string }) => d.field === field),
        `${field} in ${JSON.stringify(r.body.error.details)}`,
      );
    }
    const m = await define({ name: 'q', type: 'counter', aggregation: 'count', dimensions: ['userId'] });
    const queries: [string, string][] = [
      ['interval=fortnight', 'interval'],
      ['timezone=Mars/Olympus', 'timezone'],
      [`from=${BASE + H}&to=${BASE}`, 'from'],
      ['groupBy=campaignId', 'groupBy[0]'],
      [`from=${BASE - 365 * 24 * H}&to=${BASE}&interval=minute`, 'interval'],
      ['limit=0&groupBy=userId', 'limit'],
      ['fill=maybe', 'fill'],
      // Beyond JavaScript's dates (the default start is 7 days before), and a zone link in a
      // letter case Intl forgives but the store does not.
      [`to=${encodeURIComponent('-271821-04-20T00:00:00Z')}`, 'to'],
      ['from=99999999999999999', 'from'],
      ['timezone=us%2Fpacific', 'timezone'],
    ];
    for (const [query, field] of queries) {
      const r = await data(m.body.id, query);
      assert.equal(r.status, 400, query);
      assert.equal(r.body.error.details[0].field, field, query);
    }
    // A zone's canonical name in another letter case is that zone.
    const paris = await data(m.body.id, `${range}&timezone=europe%2Fparis&interval=day`);
    assert.equal(paris.status, 200, JSON.stringify(paris.body));
    assert.equal(paris.body.timezone, 'Europe/Paris');
  });

  it('refuses regular expressions RE2 cannot compile when a metric is created or replaced, naming the field', async () => {
    const invalid = (field: string, op = 'regex', value: unknown = '([') => ({ field, op, value });
    const cases: [Record<string, unknown>, string, string][] = [
      [{ name: 'x', type: 'counter', aggregation: 'count', filters: [invalid('userId')] }, 'filters[0].value', 'missing ]'],
      [
        { name: 'x', type: 'counter', aggregation: 'count', filters: [{ field: 'userId', op: 'regex', value: '^u' }, invalid('plan.tier', 'regex', 'a{2,1}')] },
        'filters[1].value',
        'invalid repetition size',
      ],
      [
        {
          name: 'x',
          type: 'gauge',
          aggregation: 'avg',
          formula: 'sent / delivered',
          series: {
            sent: { eventName: 'message_sent', aggregation: 'count', filters: [{ field: 'userId', op: 'eq', value: 'u1' }, invalid('campaignId', 'regex', '(?<')] },
            delivered: { eventName: 'message_delivered', aggregation: 'count' },
          },
        },
        'series.sent.filters[1].value',
        'invalid perl operator',
      ],
    ];
    const refused = (r: { status: number; body: any }, field: string, reason: string) => {
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'validation_failed');
      assert.deepEqual(r.body.error.details, [{ field, message: `is not a valid regular expression (RE2 syntax): ${reason}` }]);
      assert.doesNotMatch(JSON.stringify(r.body), /DB::|Exception|SELECT|CANNOT_COMPILE|Code: /);
    };
    for (const [body, field, reason] of cases) refused(await define(body), field, reason);

    // PUT likewise: the definition stays as it was.
    const m = await define({ name: 'kept', type: 'counter', aggregation: 'count', eventName: 'message_sent', filters: [{ field: 'userId', op: 'regex', value: '^u[12]$' }] });
    assert.equal(m.status, 201, JSON.stringify(m.body));
    for (const [body, field, reason] of cases) {
      refused(await call(t.url, 'PUT', `/api/metrics/${m.body.id}`, { secret: acme.admin, body }), field, reason);
    }
    const kept = await call(t.url, 'GET', `/api/metrics/${m.body.id}`, { secret: acme.read });
    assert.equal(kept.body.version, 1);
    assert.equal((await data(m.body.id, range)).body.totals.value, 6);

    // Valid expressions still work, in a series too (RE2 classes and escapes included).
    const series = await define({
      name: 'pro share',
      type: 'gauge',
      aggregation: 'avg',
      formula: 'pro / sent',
      series: {
        pro: { eventName: 'message_sent', aggregation: 'count', filters: [{ field: 'plan.tier', op: 'regex', value: '^p\\w+$' }] },
        sent: { eventName: 'message_sent', aggregation: 'count' },
      },
    });
    assert.equal(series.status, 201, JSON.stringify(series.body));
    assert.deepEqual((await data(series.body.id, `${range}&interval=day`)).body.series[0].points, [{ t: new Date(BASE).toISOString(), value: 0.5 }]);
    const put = await call(t.url, 'PUT', `/api/metrics/${m.body.id}`, {
      secret: acme.admin,
      body: { name: 'kept', type: 'counter', aggregation: 'count', eventName: 'message_sent', filters: [{ field: 'userId', op: 'regex', value: '^u[0-1]$' }] },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal((await data(m.body.id, range)).body.totals.value, 7);
  });

  it('answers a stored definition whose regex the engine refuses with a 400 naming filters, never the engine text', async () => {
    // Stored without the check (as definitions saved before it was added).
    const now = new Date().toISOString();
    const id = 'metric-with-a-bad-regex';
    await t.app.get(MetricsRepository).insert({
      _id: id,
      accountId: acme.accountId,
      name: 'old',
      type: 'counter',
      aggregation: 'count',
      filters: [{ field: 'userId', op: 'regex', value: '([' }],
      dimensions: [],
      createdAt: now,
      updatedAt: now,
      version: 1,
    });
    const r = await data(id, range);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'validation_failed');
    assert.equal(r.body.error.details[0].field, 'filters');
    assert.match(r.body.error.details[0].message, /not a valid regular expression/);
    assert.doesNotMatch(JSON.stringify(r.body), /DB::|Exception|SELECT|CANNOT_COMPILE|Code: /);
  });

  it('lets read clients read and only admin clients change, within their own account', async () => {
    const m = await define({ name: 'mine', type: 'counter', aggregation: 'count' });
    assert.equal((await define({ name: 'x', type: 'counter', aggregation: 'count' }, acme.read)).status, 403);
    assert.equal((await call(t.url, 'GET', `/api/metrics/${m.body.id}`, { secret: acme.read })).status, 200);
    assert.equal((await call(t.url, 'GET', `/api/metrics/${m.body.id}`, { secret: globex.admin })).status, 404);
    assert.equal((await data(m.body.id, range, globex.read)).status, 404);
    assert.equal((await call(t.url, 'DELETE', `/api/metrics/${m.body.id}`, { secret: globex.admin })).status, 404);
    const list = await call(t.url, 'GET', '/api/metrics?limit=500', { secret: acme.read });
    assert.ok(list.body.metrics.some((x: { id: string }) => x.id === m.body.id));
    assert.ok(!(await call(t.url, 'GET', '/api/metrics', { secret: globex.read })).body.metrics.some((x: { id: string }) => x.id === m.body.id));

    const put = await call(t.url, 'PUT', `/api/metrics/${m.body.id}`, {
      secret: acme.admin,
      body: { name: 'renamed', type: 'counter', aggregation: 'count', eventName: 'message_delivered' },
    });
    assert.equal(put.status, 200);
    assert.equal(put.body.version, 2);
    assert.equal((await data(m.body.id, range)).body.totals.value, 6);
    assert.equal((await call(t.url, 'PUT', `/api/metrics/${m.body.id}`, { secret: acme.read, body: { name: 'x', type: 'counter', aggregation: 'count' } })).status, 403);
    assert.equal((await call(t.url, 'DELETE', `/api/metrics/${m.body.id}`, { secret: acme.admin })).status, 204);
    assert.equal((await call(t.url, 'GET', `/api/metrics/${m.body.id}`, { secret: acme.read })).status, 404);
    assert.equal((await call(t.url, 'GET', '/api/metrics/not-an-id', { secret: acme.read })).status, 404);
  });
});
