import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChdbEventsStore } from '../src/infrastructure/clickhouse/chdb.events-store.js';
import { EVENTS_STORE, type EventsStore } from '../src/infrastructure/clickhouse/events-store.port.js';
import { migrate } from '../src/infrastructure/clickhouse/migrator.js';
import { EVENTS_MIGRATIONS } from '../src/infrastructure/clickhouse/schema/migrations/index.js';
import type { MetricDataQuery } from '../src/metrics/metric.types.js';
import { MetricsService } from '../src/metrics/metrics.service.js';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';
import { ServiceProcess } from './support/service-process.js';

const DAY = 86_400_000;

/** `count` track events of account `accountId` straight into the store: `users` distinct users over `days` days before `end`. */
async function insertEvents(store: EventsStore, accountId: string, count: number, users: number, days: number, end: number): Promise<void> {
  // In chunks of 200,000, each one insert well inside the query timeout with every view.
  for (let first = 0; first < count; first += 200_000) {
    await store.command(
    `INSERT INTO events (account_id, event_id, event_type, event_name, timestamp, received_at, session_id, user_id, properties)
     SELECT {account:String}, generateUUIDv4(number), 'track', 'open',
       fromUnixTimestamp64Milli(toInt64({end:Int64} - 1 - (cityHash64(number, 2) % {span:Int64}))) AS ts, ts,
       concat('s', toString(number % ({users:UInt64} * 2))), concat('u', toString(number % {users:UInt64})), '{}'
     FROM numbers({first:UInt64}, {count:UInt64})`,
      { account: accountId, end, span: days * DAY, users, first, count: Math.min(200_000, count - first) },
    );
  }
}

describe('approximate unique counts', () => {
  let t: TestApp;
  let acme: Credentials;
  let service: MetricsService;
  const END = Math.floor(Date.now() / DAY) * DAY;
  const USERS = 300_000;

  before(async () => {
    t = await startApp();
    acme = await createAccount(t.url, 'acme');
    service = t.app.get(MetricsService);
    // 600,000 events of 300,000 users over two days: far past the sketches' exact small modes.
    await insertEvents(t.app.get(EVENTS_STORE), acme.accountId, 600_000, USERS, 2, END);
  });
  after(async () => t?.close());

  const create = async (body: Record<string, unknown>) => {
    const res = await call(t.url, 'POST', '/api/metrics', { secret: acme.admin, body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; precision?: string };
  };
  const q = (interval: MetricDataQuery['interval']): MetricDataQuery => ({ from: END - 2 * DAY, to: END, interval, timezone: 'UTC', groupBy: [], other: false, fill: false });

  it('stays within 1 % of the exact count on 300,000 users, from raw rows, the rollup and hourly states alike', async () => {
    const approximate = await create({ name: 'users', type: 'gauge', aggregation: 'unique', field: 'users' });
    const exact = await create({ name: 'users, exact', type: 'gauge', aggregation: 'unique', field: 'users', precision: 'exact' });
    assert.equal(approximate.precision, 'approximate');
    const exactAnswer = await service.data(acme.accountId, exact.id, q('day'));
    assert.equal(exactAnswer.totals.value, USERS, 'the exact path stays exact');
    for (const interval of ['hour', 'day'] as const) {
      const rolled = await service.data(acme.accountId, approximate.id, q(interval), { hours: false });
      const raw = await service.data(acme.accountId, approximate.id, q(interval), { rollup: false });
      // The sketches merged from the per-minute rows, or from the metric's hours, are the sketch of all the rows.
      assert.deepEqual(rolled, raw, interval);
      assert.deepEqual(await service.data(acme.accountId, approximate.id, q(interval)), raw, `${interval}, from hourly states`);
      const error = Math.abs(rolled.totals.value! - USERS) / USERS;
      assert.ok(error < 0.01, `total ${rolled.totals.value} is ${(error * 100).toFixed(2)} % off ${USERS}`);
      assert.notEqual(rolled.totals.value, USERS, 'a sketch this large is an estimate (else this test proves nothing)');
    }
    // Each day's value too (about 190,000 users a day).
    const byDay = await service.data(acme.accountId, exact.id, q('day'));
    const approxByDay = await service.data(acme.accountId, approximate.id, q('day'));
    for (const [i, p] of byDay.series[0]!.points.entries()) {
      const estimate = approxByDay.series[0]!.points[i]!.value!;
      assert.ok(Math.abs(estimate - p.value!) / p.value! < 0.01, `${p.t}: ${estimate} against ${p.value}`);
    }
  });

  it('names precision where it does not belong, and a replaced metric keeps its precision', async () => {
    const bad = [
      [{ name: 'x', type: 'counter', aggregation: 'count', precision: 'approximate' }, 'precision'],
      [{ name: 'x', type: 'gauge', aggregation: 'unique', field: 'users', precision: 'roughly' }, 'precision'],
      [
        { name: 'x', type: 'gauge', aggregation: 'max', formula: 'a / b', series: { a: { eventName: 'a', aggregation: 'count', precision: 'exact' } } },
        'series.a.precision',
      ],
      [{ name: 'x', type: 'gauge', aggregation: 'max', formula: 'a / b', series: { a: { aggregation: 'unique', precision: 'loose' } } }, 'series.a.precision'],
      [{ name: 'x', type: 'gauge', aggregation: 'max', formula: 'a / b', precision: 'exact' }, 'precision'],
    ] as const;
    for (const [body, field] of bad) {
      const res = await call(t.url, 'POST', '/api/metrics', { secret: acme.admin, body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(
        (res.body.error.details as { field: string }[]).some((d) => d.field === field),
        `${field} named in ${JSON.stringify(res.body.error.details)}`,
      );
    }
    const exact = await create({ name: 'exact users', type: 'gauge', aggregation: 'unique', field: 'users', precision: 'exact' });
    const replaced = await call(t.url, 'PUT', `/api/metrics/${exact.id}`, {
      secret: acme.admin,
      body: { name: 'exact users, renamed', type: 'gauge', aggregation: 'unique', field: 'users' },
    });
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    assert.equal(replaced.body.precision, 'exact');
    // Replaced by a count, it has no precision any more (stored or answered).
    const counted = await call(t.url, 'PUT', `/api/metrics/${exact.id}`, { secret: acme.admin, body: { name: 'opens', type: 'counter', aggregation: 'count', eventName: 'open' } });
    assert.equal(counted.status, 200, JSON.stringify(counted.body));
    assert.equal('precision' in counted.body, false);
    const read = await call(t.url, 'GET', `/api/metrics/${exact.id}`, { secret: acme.read });
    assert.equal('precision' in read.body, false, JSON.stringify(read.body));
  });
});

describe('the approximate uniques backfill after an upgrade', () => {
  const dir = mkdtempSync(join(tmpdir(), 'analytics-backfill-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const DAYS = 40;
  const END = Math.floor(Date.now() / DAY) * DAY;

  it('fills the rollup rows stored before migration 12, survives kill -9, and then the rollup answers', async () => {
    // The account, made by the service; then the store as a version before migration 12 left it.
    let service = new ServiceProcess({ DATA_DIR: dir });
    await service.start();
    const acme = await createAccount(service.url, 'acme');
    const created = async (body: Record<string, unknown>) => (await call(service.url, 'POST', '/api/metrics', { secret: acme.admin, body })).body.id as string;
    const approximate = await created({ name: 'users', type: 'gauge', aggregation: 'unique', field: 'users', precision: 'approximate' });
    const exact = await created({ name: 'users, exact', type: 'gauge', aggregation: 'unique', field: 'users', precision: 'exact' });
    assert.equal(await service.stop('SIGTERM'), 0);
    rmSync(join(dir, 'chdb'), { recursive: true, force: true });
    const old = await ChdbEventsStore.open(dir, 1, 60_000);
    await migrate(old, EVENTS_MIGRATIONS.filter((m) => m.version < 12), { retentionDays: 90 });
    await insertEvents(old, acme.accountId, 40_000, 300, DAYS, END);
    await old.close();

    // Upgraded, with a pause between chunks so it can be caught half way.
    service = new ServiceProcess({ DATA_DIR: dir, BACKFILL_PAUSE_MS: '250' });
    await service.start();
    const progress = async (s: ServiceProcess) =>
      ((await (await fetch(`${s.url}/ready`)).json()) as { approximateUniquesBackfill: { finished: boolean; nextDay?: string; chunks: number } })
        .approximateUniquesBackfill;
    const data = async (s: ServiceProcess, id: string) => {
      const { series, totals } = (await call(s.url, 'GET', `/api/metrics/${id}/data?from=${END - DAYS * DAY}&to=${END}&interval=day`, { secret: acme.read }))
        .body as { series: { points: { t: string; value: number }[] }[]; totals: { value: number } };
      return { series, totals };
    };
    for (let i = 0; (await progress(service)).chunks < 3; i++) {
      assert.ok(i < 300, 'the backfill did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    // Half way, approximate metrics read raw rows: already the right answer.
    assert.equal((await progress(service)).finished, false);
    assert.deepEqual(await data(service, approximate), await data(service, exact));
    assert.equal(await service.stop('SIGKILL'), null);
    assert.ok(!(await progress(service).catch(() => undefined)), 'killed');

    service = new ServiceProcess({ DATA_DIR: dir });
    await service.start();
    try {
      for (let i = 0; !(await progress(service)).finished; i++) {
        assert.ok(i < 600, 'the backfill did not finish');
        await new Promise((r) => setTimeout(r, 100));
      }
      const rolled = await data(service, approximate);
      assert.deepEqual(rolled, await data(service, exact));
      assert.equal(rolled.totals.value, 300);
      assert.equal(rolled.series[0]!.points.length, DAYS);
    } finally {
      await service.stop('SIGTERM');
    }
    // Every day's sketches are in the rollup, and count what the events hold.
    const store = await ChdbEventsStore.open(dir, 1, 60_000);
    try {
      const days = await store.query<{ d: string; sketched: number; exact: number }>(
        `SELECT d, sketched, exact FROM
           (SELECT toDate(minute) AS d, uniqCombined64Merge(users_approx) AS sketched FROM events_by_minute WHERE account_id = {a:String} GROUP BY d) AS r
           FULL JOIN (SELECT toDate(timestamp) AS d, uniqExact(user_id) AS exact FROM events WHERE account_id = {a:String} GROUP BY d) AS e USING d
         ORDER BY d`,
        { a: acme.accountId },
      );
      assert.equal(days.length, DAYS);
      for (const day of days) assert.equal(Number(day.sketched), Number(day.exact), day.d);
    } finally {
      await store.close();
    }
  });
});
