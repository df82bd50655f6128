import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EVENTS_MIGRATIONS } from '../src/infrastructure/clickhouse/schema/migrations/index.js';
import { ChdbEventsStore } from '../src/infrastructure/clickhouse/chdb.events-store.js';
import { ClickHouseServerEventsStore } from '../src/infrastructure/clickhouse/clickhouse-server.events-store.js';
import type { EventsStore } from '../src/infrastructure/clickhouse/events-store.port.js';
import { migrate, migrationStatements } from '../src/infrastructure/clickhouse/migrator.js';
import { figuresQuery } from '../src/insights/insights-query.js';
import type { InsightsFilter } from '../src/insights/insights-filters.js';
import type { InsightsRange } from '../src/insights/insights-range.js';
import { removalsQuery, rollupFiguresQuery } from '../src/insights/rollup-query.js';
import { SessionSummarizer, sessionsOf } from '../src/sessions/session-summarizer.js';
import { ChdbHttpHarness } from './support/chdb-http-harness.js';

const T0 = Date.UTC(2026, 10, 10, 9, 0);
const MIN = 60_000;
const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
let seq = 0;

/** One web event row of session `s` (device `d`) at `at`. */
function event(s: string, d: string, at: number, name = 'screen_view', extra: Record<string, unknown> = {}) {
  seq++;
  return {
    account_id: 'acc',
    event_id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    event_type: 'track',
    event_name: name,
    timestamp: time(at),
    received_at: time(at),
    session_id: s,
    anonymous_id: d,
    user_id: '',
    properties: '{}',
    origin: 'https://shop.test',
    path: `/p${seq % 3}`,
    title: `Page ${seq % 3}`,
    referrer_name: seq % 2 ? 'Google' : '',
    referrer_type: seq % 2 ? 'search' : 'direct',
    country: ['DE', 'US', 'FR'][seq % 3],
    ...extra,
  };
}
const lines = (rows: object[]) => Buffer.from(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));

/** A day of sessions: 40 devices, each with 1 to 3 sessions of 1 to 5 events. */
function day(offset: number) {
  const rows: object[] = [];
  for (let d = 0; d < 40; d++) {
    for (let k = 0; k < 1 + (d % 3); k++) {
      const start = T0 + offset + d * 7 * MIN + k * 200 * MIN;
      for (let e = 0; e < 1 + ((d + k) % 5); e++) rows.push(event(`s${offset}-${d}-${k}`, `dev${d}`, start + e * 3 * MIN, e === 2 ? 'click' : 'screen_view'));
    }
  }
  return rows;
}

/** The suite on one adapter: `open` gets a fresh store in `dir`. */
function summariesSuite(name: string, open: (dir: string) => Promise<EventsStore>, stop: () => Promise<void> = async () => undefined) {
  describe(`session summaries and rollups (${name})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'session-summaries-'));
    let store: EventsStore;
    let summarizer: SessionSummarizer;

    before(async () => {
      store = await open(dir);
      summarizer = new SessionSummarizer(store);
    });
    after(async () => {
      await store?.close();
      await stop();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Each session merged from its partial rows, as the raw truth. */
    const merged = `SELECT session_id, min(start) AS s_start, max(end) AS s_end, sum(events) AS n, sum(page_views) AS views,
        if(max(device_id) != '', max(device_id), max(user_id)) AS visitor, argMinMerge(first_path) AS entry,
        argMaxMerge(exit_path) AS exit, argMinMerge(first_country) AS country,
        concat(argMinMerge(first_referrer_name), char(0), argMinMerge(first_referrer_type)) AS referrer,
        CAST(sumMap(pages), 'Map(String, UInt64)') AS pages
      FROM sessions WHERE account_id = 'acc' GROUP BY session_id`;

    /** The rollups against figures computed from the merged sessions; returns the session count. */
    async function compare(): Promise<number> {
      const figures = `sum(sessions) AS ns, sum(bounces) AS nb, sum(duration_ms) AS nd, sum(page_views) AS nv`;
      const raw = (key: string) => `SELECT ${key} AS value, toString(toStartOfFifteenMinutes(s_start)) AS b, count() AS ns,
          countIf(n = 1 AND views = 1) AS nb, sum(dateDiff('millisecond', s_start, s_end)) AS nd, sum(views) AS nv
        FROM (${merged}) GROUP BY value, b ORDER BY value, b`;
      for (const [dimension, key] of [['', "''"], ['path', 'entry'], ['exit', 'exit'], ['country', 'country'], ['referrer_name', 'referrer']]) {
        const rolled = await store.query(
          `SELECT value, toString(bucket) AS b, ${figures} FROM session_rollup WHERE account_id = 'acc' AND dimension = {d:String}
           GROUP BY value, b HAVING ns != 0 ORDER BY value, b`,
          { d: dimension! },
        );
        assert.deepEqual(rolled, await store.query(raw(key!)), `dimension "${dimension}"`);
      }
      // Visitor ids: one per visitor, and the one each session's summary carries.
      const [ids] = await store.query<Record<string, number>>(
        `SELECT count() AS n, uniqExact(visitor) AS visitors, uniqExact(id) AS ids, min(id) AS low, max(id) AS high FROM visitor_ids FINAL WHERE account_id = 'acc'`,
      );
      assert.deepEqual([ids!.visitors, ids!.ids, ids!.low, ids!.high].map(Number), [Number(ids!.n), Number(ids!.n), 1, Number(ids!.n)]);
      const idOf = `(SELECT visitor, id FROM visitor_ids FINAL WHERE account_id = 'acc') AS ids`;
      const [mismatched] = await store.query<{ n: number }>(
        `SELECT countIf(l.visitor_id != ids.id OR ids.id = 0) AS n FROM (SELECT * FROM session_latest FINAL WHERE account_id = 'acc') AS l
         LEFT JOIN ${idOf} ON ids.visitor = l.visitor`,
      );
      assert.equal(Number(mismatched!.n), 0);
      // Each bucket's bitmap: its sessions' visitors, and besides them only visitors a session left.
      const sets = async (sql: string) => new Map((await store.query<{ b: string; v: number[] }>(sql)).map((r) => [r.b, r.v.map(Number)]));
      const bitmaps = await sets(
        `SELECT toString(bucket) AS b, bitmapToArray(groupBitmapMergeState(visitors)) AS v FROM visitor_bitmaps WHERE account_id = 'acc' GROUP BY b`,
      );
      const removed = await sets(`SELECT toString(bucket) AS b, groupUniqArray(visitor) AS v FROM visitor_removals WHERE account_id = 'acc' GROUP BY b`);
      const started = await sets(
        `SELECT toString(toStartOfFifteenMinutes(s_start)) AS b, groupUniqArray(ids.id) AS v FROM (${merged}) AS m LEFT JOIN ${idOf} ON ids.visitor = m.visitor GROUP BY b`,
      );
      for (const [b, visitors] of started) {
        const bitmap = new Set(bitmaps.get(b));
        assert.ok(visitors.every((v) => bitmap.has(v)), b);
        for (const v of visitors) bitmap.delete(v);
        assert.ok([...bitmap].every((v) => removed.get(b)?.includes(v)), b);
      }
      const pages = await store.query(
        `SELECT page, toString(bucket) AS b, sum(views) AS npv, ${figures} FROM page_rollup WHERE account_id = 'acc'
         GROUP BY page, b HAVING ns != 0 ORDER BY page, b`,
      );
      const rawPages = await store.query(
        `SELECT p.1 AS page, toString(toStartOfFifteenMinutes(s_start)) AS b, sum(p.2) AS npv, count() AS ns,
           countIf(n = 1 AND views = 1) AS nb, sum(dateDiff('millisecond', s_start, s_end)) AS nd, sum(views) AS nv
         FROM (${merged}) ARRAY JOIN CAST(pages, 'Array(Tuple(String, UInt64))') AS p GROUP BY page, b ORDER BY page, b`,
      );
      assert.deepEqual(pages, rawPages);
      assert.ok(rawPages.length > 3);
      // And the latest summary of each session is the session merged from its partial rows.
      assert.deepEqual(
        await store.query(
          `SELECT session_id, start AS s_start, end AS s_end, events AS n, page_views AS views, visitor, first_path AS entry, exit_path AS exit
           FROM session_latest FINAL WHERE account_id = 'acc' ORDER BY session_id`,
        ),
        await store.query(`SELECT session_id, s_start, s_end, n, views, visitor, entry, exit FROM (${merged}) ORDER BY session_id`),
      );
      // The profile activity (for retention): every (15 minutes, profile) with an event.
      assert.deepEqual(
        await store.query(`SELECT DISTINCT toString(bucket) AS b, profile FROM profile_activity ORDER BY b, profile`),
        await store.query(
          `SELECT DISTINCT toString(toStartOfFifteenMinutes(timestamp)) AS b, sipHash64(if(user_id != '', user_id, anonymous_id)) AS profile
           FROM events ORDER BY b, profile`,
        ),
      );
      const [{ n }] = await store.query<{ n: number }>(`SELECT count() AS n FROM (${merged})`);
      return Number(n);
    }

    it('summarizes sessions stored before the migration, then keeps the rollups exact as sessions change', async () => {
      await migrate(store, EVENTS_MIGRATIONS.slice(0, 4), { retentionDays: 4000 });
      await store.insertJsonEachRow('events', lines(day(0)));
      await migrate(store, EVENTS_MIGRATIONS, { retentionDays: 4000 });
      // Old versions of changed sessions stay until a merge; keep them, as a busy store would.
      await store.command('SYSTEM STOP MERGES session_latest');
      const before = await compare();
      assert.ok(before > 60);

      // New sessions, and events that extend stored ones: later ones, and a late one that moves a
      // session's start (and first page, and its bucket) earlier.
      const more = [
        ...day(86_400_000),
        event('s0-1-0', 'dev1', T0 + 7 * MIN + 20 * MIN, 'screen_view', { path: '/late-exit' }),
        event('s0-2-0', 'dev2', T0 + 14 * MIN - 40 * MIN, 'screen_view', { path: '/late-entry', country: 'JP' }),
        event('s0-0-0', 'dev0', T0 + 5 * MIN, 'purchase'),
      ];
      await store.insertJsonEachRow('events', lines(more), { dedupToken: 'b1' });
      await summarizer.summarize(sessionsOf(lines(more)), 'b1');
      assert.equal(await compare(), before + (await store.query<{ n: number }>(`SELECT uniqExact(session_id) AS n FROM events WHERE timestamp >= '2026-11-11'`).then((r) => Number(r[0]!.n))));
      const after = await compare();

      // Only s0-2-0's first event changed: session_moves holds it alone, and its two versions
      // (merges of session_latest are stopped in this test) differ in start and first event.
      const movedIds = await store.query<{ session_id: string }>(`SELECT session_id FROM session_moves FINAL WHERE account_id = 'acc'`);
      assert.deepEqual(movedIds.map((r) => r.session_id), ['s0-2-0']);
      const [versions] = await store.query<{ n: number }>(`SELECT count() AS n FROM session_latest WHERE session_id = 's0-2-0'`);
      assert.equal(Number(versions!.n), 2);
      // Filtered questions filter before FINAL except for moved sessions, and answer as the
      // merged sessions do: s0-2-0's old version (09:14, not JP) must not count, its new one must.
      for (const [from, to, filters, truth] of [
        [T0, T0 + 15 * MIN, [{ name: 'country', operator: 'isNot', value: ['JP'] }], `s_start >= '2026-11-10 09:00:00' AND s_start < '2026-11-10 09:15:00' AND country != 'JP'`],
        [T0 - 86_400_000, T0 + 3 * 86_400_000, [{ name: 'country', operator: 'is', value: ['JP'] }], `country = 'JP'`],
        [T0 - 86_400_000, T0 + 3 * 86_400_000, [{ name: 'path', operator: 'startsWith', value: ['/p'] }], `startsWith(entry, '/p')`],
      ] as [number, number, InsightsFilter[], string][]) {
        const q = figuresQuery('acc', { from, to, interval: 'day', timezone: 'UTC' }, filters, true);
        const current = (await store.query<Record<string, unknown>>(q.sql, q.params)).find((r) => r.period === 'current');
        const [expected] = await store.query<Record<string, number>>(
          `SELECT count() AS sessions, uniqExact(visitor) AS visitors FROM (${merged}) WHERE ${truth}`,
        );
        assert.deepEqual([current?.total_sessions ?? 0, current?.unique_visitors ?? 0].map(Number), [expected!.sessions, expected!.visitors].map(Number), truth);
      }
      // Filtering every session before FINAL would count s0-2-0's old version.
      const [unsafe] = await store.query<{ n: number }>(
        `SELECT count() AS n FROM session_latest FINAL PREWHERE account_id = 'acc' AND start >= '2026-11-10 09:00:00' AND start < '2026-11-10 09:15:00' AND first_country != 'JP'`,
      );
      const [safe] = await store.query<{ n: number }>(
        `SELECT count() AS n FROM (${merged}) WHERE s_start >= '2026-11-10 09:00:00' AND s_start < '2026-11-10 09:15:00' AND country != 'JP'`,
      );
      assert.equal(Number(unsafe!.n), Number(safe!.n) + 1);

      // A retried batch changes nothing (its token), nor does summarizing unchanged sessions anew.
      await summarizer.summarize(sessionsOf(lines(more)), 'b1');
      assert.equal(await compare(), after);
      await summarizer.summarize(sessionsOf(lines(more)), 'b2');
      assert.equal(await compare(), after);

      // A crash between the deltas and the new summaries: the retry's deltas, the same, are dropped
      // by the token (or the rollups would count the change twice), and the summaries catch up.
      class CrashingSummarizer extends SessionSummarizer {
        protected override recordLatest(): Promise<void> {
          return Promise.reject(new Error('crash'));
        }
      }
      const extra = [event('s0-3-0', 'dev3', T0 + 21 * MIN + 4 * MIN, 'screen_view', { path: '/extra' }), ...day(2 * 86_400_000)];
      await store.insertJsonEachRow('events', lines(extra), { dedupToken: 'b3' });
      await assert.rejects(new CrashingSummarizer(store).summarize(sessionsOf(lines(extra)), 'b3'), /crash/);
      await summarizer.summarize(sessionsOf(lines(extra)), 'b3');
      const final = await compare();
      assert.ok(final > after);

      // The insights read the same from the rollups as from the sessions, including a visitor whose
      // only session in 09:00–09:15 moved to 08:30 (a late event): its key there sums to 0.
      for (const [from, to] of [
        [T0, T0 + 15 * MIN],
        [T0 - 30 * MIN, T0 + 15 * MIN],
        [T0 + 5 * MIN, T0 + 50 * MIN],
        [T0 - 86_400_000, T0 + 3 * 86_400_000],
      ] as const) {
        for (const interval of to - from <= 3_600_000 ? (['minute', 'hour'] as const) : (['hour', 'day'] as const)) {
          const range: InsightsRange = { from, to, interval, timezone: 'UTC' };
          const rolled = rollupFiguresQuery('acc', range, true);
          const raw = figuresQuery('acc', range, [], true);
          assert.deepEqual(
            await store.query(rolled.sql, rolled.params),
            await store.query(raw.sql, raw.params),
            `${new Date(from).toISOString()} – ${new Date(to).toISOString()} by ${interval}`,
          );
        }
      }
      const quarter = rollupFiguresQuery('acc', { from: T0, to: T0 + 15 * MIN, interval: 'hour', timezone: 'UTC' }, true);
      const current = (await store.query<{ period: string; unique_visitors: number }>(quarter.sql, quarter.params)).find((r) => r.period === 'current');
      assert.equal(Number(current!.unique_visitors), 2, 'dev0 and dev1; dev2 moved out');
      // The service checks for removals first and leaves the subtraction out when there are none;
      // here there is one, and without the subtraction dev2 would still count.
      const removed = async (from: number, to: number) => {
        const q = removalsQuery('acc', from, to);
        return Number((await store.query<{ removed: number }>(q.sql, q.params))[0]!.removed);
      };
      assert.equal(await removed(T0, T0 + 15 * MIN), 1);
      assert.equal(await removed(T0 + 15 * MIN, T0 + 86_400_000), 0);
      const unchecked = rollupFiguresQuery('acc', { from: T0, to: T0 + 15 * MIN, interval: 'hour', timezone: 'UTC' }, true, false);
      const overcount = (await store.query<{ period: string; unique_visitors: number }>(unchecked.sql, unchecked.params)).find((r) => r.period === 'current');
      assert.equal(Number(overcount!.unique_visitors), 3);

      // A session left a bucket (dev2's), and that is recorded.
      assert.ok(Number((await store.query<{ n: number }>(`SELECT count() AS n FROM visitor_removals`))[0]!.n) > 0);

      // The migrations that build the summaries can run again after a crash before their tracking row.
      // Migration 10 finds the same moved session among the stored versions.
      for (const statement of migrationStatements(EVENTS_MIGRATIONS.find((m) => m.version === 10)!, { retentionDays: 4000 })) await store.command(statement);
      assert.deepEqual(
        (await store.query<{ session_id: string }>(`SELECT session_id FROM session_moves FINAL WHERE account_id = 'acc'`)).map((r) => r.session_id),
        ['s0-2-0'],
      );

      for (const version of [5, 8]) {
        for (const statement of migrationStatements(EVENTS_MIGRATIONS.find((m) => m.version === version)!, { retentionDays: 4000 })) await store.command(statement);
        assert.equal(await compare(), final);
      }
    });
  });
}

summariesSuite('chDB', (dir) => ChdbEventsStore.open(dir, 2, 10_000));

// @clickhouse/client against ClickHouse's HTTP interface served from chDB (no server here).
let harness: ChdbHttpHarness | undefined;
summariesSuite(
  'ClickHouse server over HTTP',
  async (dir) => {
    harness = new ChdbHttpHarness(dir);
    const url = await harness.start();
    return ClickHouseServerEventsStore.open({ url, user: 'default', password: '', database: 'summaries_test', queryTimeoutMs: 10_000 });
  },
  async () => harness?.stop(),
);
