import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickHouseServerEventsStore } from '../src/infrastructure/clickhouse/clickhouse-server.events-store.js';
import { ChdbHttpHarness } from './support/chdb-http-harness.js';
import { eventsStoreContract } from './support/events-store.contract.js';

// @clickhouse/client against ClickHouse's HTTP interface served from chDB (no server here).
const dir = mkdtempSync(join(tmpdir(), 'contract-chs-'));
const harness = new ChdbHttpHarness(dir);
eventsStoreContract(
  'ClickHouse server over HTTP (@clickhouse/client)',
  async () => {
    const url = await harness.start();
    return ClickHouseServerEventsStore.open({
      url,
      user: 'default',
      password: '',
      database: 'analytics_test',
      queryTimeoutMs: 10_000,
    });
  },
  async () => {
    await harness.stop();
    rmSync(dir, { recursive: true, force: true });
  },
);
