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
