import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { call, createAccount, type Credentials, storedEventIds, waitForStoredEvents } from './support/app.js';
import { ChdbHttpHarness } from './support/chdb-http-harness.js';
import { ServiceProcess } from './support/service-process.js';

/** Sends events from `workers` concurrent loops until `stop()`; records the ids of acknowledged ones. */
function streamEvents(url: string, secret: string, eventName: string, workers: number) {
  const acked: string[] = [];
  let refused = 0;
  let running = true;
  const loops = Array.from({ length: workers }, async (_, w) => {
    let n = 0;
    while (running) {
      try {
        if (n++ % 2 === 0) {
          const r = await call(url, 'POST', '/api/events', { secret, body: { eventType: 'load', eventName } });
          if (r.status === 202) acked.push(r.body.eventId);
          else refused++;
        } else {
          const ids = Array.from({ length: 10 }, () => crypto.randomUUID());
          const r = await call(url, 'POST', '/api/events/batch', {
            secret,
            body: { events: ids.map((eventId) => ({ eventId, eventType: 'load', eventName, properties: { w } })) },
          });
          if (r.status === 202) acked.push(...ids);
          else refused++;
        }
      } catch {
        // connection refused or reset: the request was not acknowledged
        refused++;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  });
  return {
    acked,
    refused: () => refused,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

const countSegments = (dataDir: string) => readdirSync(join(dataDir, 'ingest-log')).filter((f) => f.endsWith('.ndjson')).length;

describe('durability', () => {
  const services: ServiceProcess[] = [];
  after(async () => {
    for (const s of services) await s.stop('SIGKILL');
  });

  for (const fsync of ['everysec', 'always']) it(`keeps every acknowledged event, exactly once, through kill -9 mid-stream (INGEST_FSYNC=${fsync})`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'durability-'));
    const env = { DATA_DIR: dataDir, INGEST_FSYNC: fsync, INGEST_FLUSH_INTERVAL_MS: '300' };
    const first = new ServiceProcess(env);
    services.push(first);
    await first.start();
    const acct: Credentials = await createAccount(first.url);
    const stream = streamEvents(first.url, acct.write, 'crash', 16);
    await new Promise((r) => setTimeout(r, 1500));
    await first.stop('SIGKILL'); // while requests are in flight
    await stream.stop();
    assert.ok(stream.acked.length > 100, `enough traffic before the crash (${stream.acked.length})`);
    const leftInLog = readdirSync(join(dataDir, 'ingest-log'))
      .filter((f) => f.endsWith('.ndjson'))
      .reduce((n, f) => n + statSync(join(dataDir, 'ingest-log', f)).size, 0);
    assert.ok(leftInLog > 0, 'the crash left acknowledged but unflushed events in the log (the replay is exercised)');

    const second = new ServiceProcess(env);
    services.push(second);
    await second.start();
    const stored = await storedEventIds(second.url, acct.read, 'crash');
    const storedSet = new Set(stored);
    const missing = stream.acked.filter((id) => !storedSet.has(id));
    assert.deepEqual(missing, [], `${missing.length} acknowledged events lost`);
    assert.equal(stored.length, storedSet.size, 'no event stored twice');
    await second.stop('SIGTERM');
  });

  it('generates a root key on first start, logs it once, and keeps it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rootkey-'));
    const first = new ServiceProcess({ DATA_DIR: dataDir, ROOT_API_KEY: '', LOG_LEVEL: 'info' });
    services.push(first);
    await first.start();
    const key = readFileSync(join(dataDir, 'root-api-key'), 'utf8').trim();
    assert.match(key, /^root_/);
    assert.equal((statSync(join(dataDir, 'root-api-key')).mode & 0o777).toString(8), '600');
    assert.ok(first.output.includes(key), 'the generated key is logged');
    const created = await call(first.url, 'POST', '/api/accounts', { secret: key, body: { name: 'a' } });
    assert.equal(created.status, 201);
    await first.stop('SIGTERM');
    const second = new ServiceProcess({ DATA_DIR: dataDir, ROOT_API_KEY: '', LOG_LEVEL: 'info' });
    services.push(second);
    await second.start();
    assert.ok(!second.output.includes(key), 'logged once, at generation only');
    assert.equal((await call(second.url, 'GET', '/api/accounts', { secret: key })).status, 200);
    await second.stop('SIGTERM');
  });

  it('reads .env from its working directory, the environment winning, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dotenv-'));
    writeFileSync(join(dir, '.env'), 'DATA_DIR=./from-dotenv\nLOG_LEVEL=info\nPORT=1\n');
    const service = new ServiceProcess({}, { cwd: dir, unset: ['DATA_DIR', 'LOG_LEVEL'] });
    services.push(service);
    await service.start();
    assert.ok(existsSync(join(dir, 'from-dotenv', 'chdb')), 'DATA_DIR from .env');
    assert.match(service.output, /read settings from \.env/);
    assert.ok(service.output.includes(join(dir, '.env')), 'the file is named');
    assert.match(service.output, /"overriddenByEnvironment":\["PORT"\]/, 'PORT came from the environment');
    assert.match(service.output, /analytics service listening/, 'LOG_LEVEL=info from .env');
    await service.stop('SIGTERM');
  });

  it('refuses to start with a clear message naming each bad setting', async () => {
    const bad = new ServiceProcess({ RETENTION_DAYS: 'forever', INGEST_FSYNC: 'sometimes' });
    await assert.rejects(bad.start(), (err: Error) => {
      assert.match(err.message, /RETENTION_DAYS must be a whole number/);
      assert.match(err.message, /INGEST_FSYNC must be one of always, everysec, no/);
      return true;
    });
  });

  it('drains the log into the store on SIGTERM and exits cleanly', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sigterm-'));
    // A flush interval far longer than the test: only the shutdown drain can store the events.
    const env = { DATA_DIR: dataDir, INGEST_FLUSH_INTERVAL_MS: '60000' };
    const service = new ServiceProcess(env);
    services.push(service);
    await service.start();
    const acct = await createAccount(service.url);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await call(service.url, 'POST', '/api/events', { secret: acct.write, body: { eventType: 'x', eventName: 'graceful' } });
      ids.push(r.body.eventId);
    }
    assert.equal(countSegments(dataDir), 1);
    assert.equal(await service.stop('SIGTERM'), 0);
    assert.equal(countSegments(dataDir), 0, 'the log is empty after a graceful stop');
    const again = new ServiceProcess(env);
    services.push(again);
    await again.start();
    assert.deepEqual((await storedEventIds(again.url, acct.read, 'graceful')).sort(), ids.sort());
    await again.stop('SIGTERM');
  });

  it('keeps accepting while the ClickHouse server is down, answers 503 at the cap, and loses nothing', async () => {
    const chDir = mkdtempSync(join(tmpdir(), 'ch-down-'));
    const harness = new ChdbHttpHarness(chDir);
    const chUrl = await harness.start();
    const dataDir = mkdtempSync(join(tmpdir(), 'ch-down-app-'));
    const service = new ServiceProcess({
      DATA_DIR: dataDir,
      CLICKHOUSE_URL: chUrl,
      CLICKHOUSE_DATABASE: 'analytics_down',
      INGEST_FLUSH_INTERVAL_MS: '100',
      INGEST_LOG_MAX_BYTES: String(1024 * 1024),
    });
    services.push(service);
    try {
      await service.start();
      const acct = await createAccount(service.url);
      assert.equal((await call(service.url, 'GET', '/ready')).body.checks.eventsStore.kind, 'clickhouse-server');

      harness.paused = true;
      const ready = await call(service.url, 'GET', '/ready');
      assert.equal(ready.status, 503, 'not ready while the store is unreachable');
      const acked: string[] = [];
      let refusal: { status: number; body: any; headers: Headers } | null = null;
      for (let i = 0; i < 200 && !refusal; i++) {
        const events = Array.from({ length: 50 }, () => ({
          eventId: crypto.randomUUID(),
          eventType: 'x',
          eventName: 'outage',
          properties: { pad: 'p'.repeat(200) },
        }));
        const r = await call(service.url, 'POST', '/api/events/batch', { secret: acct.write, body: { events } });
        if (r.status === 202) acked.push(...events.map((e) => e.eventId));
        else refusal = r;
      }
      assert.ok(refusal, 'the log cap was reached');
      assert.equal(refusal.status, 503);
      assert.equal(refusal.body.error.code, 'unavailable');
      assert.ok(Number(refusal.headers.get('retry-after')) >= 1, 'Retry-After is set');
      assert.ok(acked.length >= 1000, `accepted while down: ${acked.length}`);

      harness.paused = false;
      const stored = await waitForStoredEvents(service.url, acct.read, 'outage', acked.length);
      const storedSet = new Set(stored);
      assert.deepEqual(acked.filter((id) => !storedSet.has(id)), [], 'every accepted event arrived');
      assert.equal(stored.length, storedSet.size, 'none twice');
      const after = await call(service.url, 'POST', '/api/events', { secret: acct.write, body: { eventType: 'x', eventName: 'outage_over' } });
      assert.equal(after.status, 202, 'accepting again once drained');
    } finally {
      await service.stop('SIGTERM');
      await harness.stop();
    }
  });
});
