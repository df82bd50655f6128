import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EVENTS_MIGRATIONS } from '../src/infrastructure/clickhouse/schema/migrations/index.js';
import { ROLLUP_TABLE } from '../src/infrastructure/clickhouse/schema/tables.js';
import { ChdbEventsStore } from '../src/infrastructure/clickhouse/chdb.events-store.js';
import { migrate, migrationStatements } from '../src/infrastructure/clickhouse/migrator.js';

/** Rows for the events table: `n` events over a few hours, three users, two sessions. */
function rows(n: number, offset: number): Buffer {
  const lines = Array.from({ length: n }, (_, i) => {
    const at = new Date(Date.UTC(2026, 10, 10) + (offset + i) * 37_123).toISOString().replace('T', ' ').replace('Z', '');
    return JSON.stringify({
      account_id: 'acc',
      event_id: `00000000-0000-4000-8000-${String(offset + i).padStart(12, '0')}`,
      event_type: 'track',
      event_name: i % 2 ? 'click' : 'view',
      timestamp: at,
      received_at: at,
      session_id: i % 5 === 0 ? '' : `s${i % 2}`,
      user_id: i % 4 === 0 ? '' : `u${i % 3}`,
      anonymous_id: i % 4 === 0 ? `anon${i % 7}` : '',
      properties: '{}',
    });
  });
  return Buffer.from(`${lines.join('\n')}\n`);
}

describe('the per-minute rollup migration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollup-migration-'));
  let store: ChdbEventsStore;

  before(async () => {
    store = await ChdbEventsStore.open(dir, 2, 10_000);
  });
  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The rollup's numbers and the raw table's, per minute and event name. */
  async function compare(): Promise<number> {
    const key = `toString(minute) || event_name`;
    const raw = await store.query<{ k: string; events: number; users: number; sessions: number }>(
      `SELECT toString(toStartOfMinute(timestamp)) || event_name AS k, count() AS events,
        uniqExactIf(if(user_id != '', user_id, anonymous_id), if(user_id != '', user_id, anonymous_id) != '') AS users,
        uniqExactIf(session_id, session_id != '') AS sessions
       FROM events GROUP BY k ORDER BY k`,
    );
    const rolled = await store.query<{ k: string; events: number; users: number; sessions: number }>(
      `SELECT ${key} AS k, sum(events) AS events, uniqExactMerge(users) AS users, uniqExactMerge(sessions) AS sessions
       FROM ${ROLLUP_TABLE} GROUP BY k ORDER BY k`,
    );
    assert.deepEqual(rolled, raw);
    return raw.reduce((n, r) => n + Number(r.events), 0);
  }

  it('copies the events stored before it, then follows new inserts, and can run again after a crash', async () => {
    await migrate(store, EVENTS_MIGRATIONS.slice(0, 1), { retentionDays: 3650 });
    await store.insertJsonEachRow('events', rows(500, 0));
    assert.deepEqual(await migrate(store, EVENTS_MIGRATIONS.slice(0, 2), { retentionDays: 3650 }), [2]);
    assert.equal(await compare(), 500);

    await store.insertJsonEachRow('events', rows(300, 500), { dedupToken: 'later' });
    assert.equal(await compare(), 800);

    // A crash after the statements but before the tracking row: they run again on the next boot
    // (before any later migration, which runs only once this one is recorded).
    for (const statement of migrationStatements(EVENTS_MIGRATIONS[1]!, { retentionDays: 3650 })) await store.command(statement);
    assert.equal(await compare(), 800);
    await store.insertJsonEachRow('events', rows(100, 800));
    assert.equal(await compare(), 900);

    // The later migrations keep the rollup as it is and it goes on following inserts.
    await migrate(store, EVENTS_MIGRATIONS, { retentionDays: 3650 });
    assert.equal(await compare(), 900);
    await store.insertJsonEachRow('events', rows(100, 900));
    assert.equal(await compare(), 1000);
  });
});
