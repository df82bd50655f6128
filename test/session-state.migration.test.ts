import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config/config.schema.js';
import { toClickHouseTime } from '../src/infrastructure/clickhouse/clickhouse-time.js';
import { EVENTS_MIGRATIONS } from '../src/infrastructure/clickhouse/schema/migrations/index.js';
import { ChdbEventsStore } from '../src/infrastructure/clickhouse/chdb.events-store.js';
import { migrate, migrationStatements } from '../src/infrastructure/clickhouse/migrator.js';
import { SessionAssigner, sessionId } from '../src/sessions/session-assigner.js';
import { DEVICE_SESSIONS_TABLE, OLD_DEVICE_SESSIONS_TABLE } from '../src/infrastructure/clickhouse/schema/tables.js';

const MIN = 60_000;
const DAY = 86_400_000;
/** Ten days ago, on a whole minute: long after the old state's two days. */
const T = Math.floor((Date.now() - 10 * DAY) / MIN) * MIN;
let seq = 0;

function event(session: string, device: string, at: number) {
  seq++;
  return {
    account_id: 'acc',
    event_id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    event_type: 'track',
    event_name: 'screen_view',
    timestamp: toClickHouseTime(at),
    received_at: toClickHouseTime(at),
    session_id: session,
    anonymous_id: device,
    properties: '{}',
  };
}
const lines = (rows: object[]) => Buffer.from(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));

describe('the session assigner state kept for the retention (migration 11)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'session-state-migration-'));
  let store: ChdbEventsStore;

  before(async () => {
    store = await ChdbEventsStore.open(dir, 2, 30_000);
  });
  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const state = () =>
    store.query<{ device_id: string; session_id: string; start: string; last: string }>(
      `SELECT device_id, session_id, toString(min(session_start)) AS start, toString(max(last_seen)) AS last
       FROM ${DEVICE_SESSIONS_TABLE} GROUP BY device_id, session_id ORDER BY device_id, session_id`,
    );

  it('rebuilds the state from the stored sessions, so a late event joins the session it belongs to', async () => {
    await migrate(store, EVENTS_MIGRATIONS.filter((m) => m.version <= 10), { retentionDays: 90 });
    // Sessions stored before: two the assigner named (their state long expired), one a client named.
    const a = sessionId('acc', 'dev-a', T);
    const b = sessionId('acc', 'dev-b', T + 60 * MIN);
    await store.insertJsonEachRow(
      'events',
      lines([event(a, 'dev-a', T), event(a, 'dev-a', T + 10 * MIN), event(b, 'dev-b', T + 60 * MIN), event('client-1', 'dev-c', T)]),
    );
    assert.deepEqual(await migrate(store, EVENTS_MIGRATIONS.filter((m) => m.version <= 11), { retentionDays: 90 }), [11]);
    const expected = [
      { device_id: 'dev-a', session_id: a, start: toClickHouseTime(T), last: toClickHouseTime(T + 10 * MIN) },
      { device_id: 'dev-b', session_id: b, start: toClickHouseTime(T + 60 * MIN), last: toClickHouseTime(T + 60 * MIN) },
    ].sort((x, y) => x.device_id.localeCompare(y.device_id));
    assert.deepEqual(await state(), expected);
    const old = await store.query(`SELECT name FROM system.tables WHERE database = currentDatabase() AND name = {n:String}`, { n: OLD_DEVICE_SESSIONS_TABLE });
    assert.deepEqual(old, [], 'the old state table is gone');

    // Every statement can run again (a crash before the migration was recorded).
    for (const statement of migrationStatements(EVENTS_MIGRATIONS.find((m) => m.version === 11)!, { retentionDays: 90 })) await store.command(statement);
    assert.deepEqual(await state(), expected);

    // Ten days late: an event 20 minutes before A's first joins A; one 40 minutes before starts its own.
    const assigner = new SessionAssigner(store, loadConfig({}));
    const late = await assigner.assign(lines([event('', 'dev-a', T - 20 * MIN), event('', 'dev-a', T - 60 * MIN)]));
    const ids = late.rows.toString().trim().split('\n').map((l) => JSON.parse(l).session_id);
    assert.deepEqual(ids, [a, sessionId('acc', 'dev-a', T - 60 * MIN)]);
    await late.commit();
    const after = await state();
    assert.equal(after.find((r) => r.session_id === a)!.start, toClickHouseTime(T - 20 * MIN));
    // Kept for the retention: a TTL on the last event plus RETENTION_DAYS.
    const [table] = await store.query<{ engine_full: string }>(
      `SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {n:String}`,
      { n: DEVICE_SESSIONS_TABLE },
    );
    assert.match(table!.engine_full, /TTL toDateTime\(last_seen\) \+ toIntervalDay\(90\)/);
  });
});
