import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbEventsStore } from '../src/infrastructure/clickhouse/chdb.events-store.js';
import { eventsStoreContract } from './support/events-store.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'contract-chdb-'));
eventsStoreContract(
  'chDB (embedded)',
  () => ChdbEventsStore.open(dir, 3, 10_000),
  async () => rmSync(dir, { recursive: true, force: true }),
);

describe('chDB (embedded) settings', () => {
  it('runs queries without the JIT (see EMBEDDED_SETTINGS)', async () => {
    const own = mkdtempSync(join(tmpdir(), 'chdb-settings-'));
    const store = await ChdbEventsStore.open(own, 3, 10_000);
    try {
      for (let i = 0; i < 3; i++) {
        const [row] = await store.query<{ e: number; a: number; s: number }>(
          `SELECT getSetting('compile_expressions') AS e, getSetting('compile_aggregate_expressions') AS a, getSetting('compile_sort_description') AS s`,
        );
        assert.deepEqual([row!.e, row!.a, row!.s].map(Number), [0, 0, 0]);
      }
    } finally {
      await store.close();
      rmSync(own, { recursive: true, force: true });
    }
  });
});
