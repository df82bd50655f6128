import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it as test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { call, createAccount, type Credentials, eventually, storedEventIds, waitForStoredEvents } from './support/app.js';
import { encodeEvent } from './support/fechatter.js';
import { ChdbHttpHarness } from './support/chdb-http-harness.js';
import { ServiceProcess } from './support/service-process.js';
import { connectWs } from './support/ws.js';
import { deleteStreams, NATS_URL, needs, REDIS_URL } from './support/services.js';

const skip = (await needs('nats')) || (await needs('redis'));

describe('api and worker as separate processes on JetStream', () => {
  const it = (title: string, fn: () => Promise<void>) => test(title, { skip }, fn);
  const stream = `TEST_ROLES_${randomUUID().slice(0, 8)}`;
  const harness = new ChdbHttpHarness(mkdtempSync(join(tmpdir(), 'roles-ch-')));
  const processes: ServiceProcess[] = [];
  let env: Record<string, string>;
  let api: ServiceProcess;
  let apiDataDir: string;
  let acct: Credentials;
  const fechatterStreams: string[] = [];

  const worker = () => {
    const w = new ServiceProcess({ ...env, ROLE: 'worker', DATA_DIR: mkdtempSync(join(tmpdir(), 'roles-worker-')) });
    processes.push(w);
    return w;
  };

  before(async () => {
    if (skip) return;
    const chUrl = await harness.start();
    env = {
      CLICKHOUSE_URL: chUrl,
      CLICKHOUSE_DATABASE: 'roles_test',
      NATS_URL,
      REDIS_URL,
      NATS_STREAM: stream,
      NATS_SUBJECT: `test.${stream.toLowerCase()}`,
      NATS_MAX_BYTES: String(256 * 1024 * 1024),
      NATS_ACK_WAIT_SECONDS: '5',
      NATS_FETCH_MAX_MESSAGES: '20',
    };
    apiDataDir = mkdtempSync(join(tmpdir(), 'roles-api-'));
    api = new ServiceProcess({ ...env, ROLE: 'api', DATA_DIR: apiDataDir });
    processes.push(api);
    await api.start();
    acct = await createAccount(api.url);
  });

  after(async () => {
    if (skip) return;
    for (const p of processes) await p.stop('SIGKILL');
    await harness.stop();
    await deleteStreams([stream, ...fechatterStreams]);
  });

  it('stores every acknowledged event exactly once when the worker is killed -9 midway', async () => {
    const ready = await call(api.url, 'GET', '/ready');
    assert.equal(ready.body.checks.ingestLog.kind, 'jetstream');
    let w = worker();
    await w.start();

    const acked: string[] = [];
    let running = true;
    const senders = Array.from({ length: 8 }, async () => {
      while (running) {
        const events = Array.from({ length: 20 }, () => ({ eventId: randomUUID(), eventType: 'load', eventName: 'split_roles' }));
        const r = await call(api.url, 'POST', '/api/events/batch', { secret: acct.write, body: { events } });
        if (r.status === 202) acked.push(...events.map((e) => e.eventId));
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    await w.stop('SIGKILL'); // mid-stream: some batches were taken but not acked
    await new Promise((r) => setTimeout(r, 500));
    running = false;
    await Promise.all(senders);
    assert.ok(acked.length > 500, `traffic before the kill: ${acked.length}`);

    w = worker();
    await w.start();
    await waitForStoredEvents(api.url, acct.read, 'split_roles', acked.length, { everyMs: 500 });
    // Give a late redelivery time to (wrongly) add a duplicate before counting.
    await new Promise((r) => setTimeout(r, 6000));
    const stored = await storedEventIds(api.url, acct.read, 'split_roles');
    const storedSet = new Set(stored);
    const missing = acked.filter((id) => !storedSet.has(id));
    assert.equal(missing.length, 0, `${missing.length} of ${acked.length} acknowledged events missing; worker said:\n${w.output.slice(-3000)}`);
    assert.equal(stored.length, storedSet.size, 'none stored twice');
    assert.equal(stored.length, acked.length);
    await w.stop('SIGTERM');
  });

  it('relays events ingested on one api replica to a dashboard connected to another (Redis pub/sub)', async () => {
    // Accounts live in MongoDB in production; here replica B reads replica A's NeDB files, which
    // it loads at start, so it knows the account created above.
    const replicaB = new ServiceProcess({ ...env, ROLE: 'api', DATA_DIR: apiDataDir });
    processes.push(replicaB);
    await replicaB.start();
    const dashboard = await connectWs(replicaB.url, { secret: acct.read });
    await dashboard.next('ready');
    dashboard.send({ type: 'subscribe', id: 'feed', topic: 'events' });
    await dashboard.next('subscribed');
    // The replica's hub announced the account on the bus: replica A publishes its events.
    await new Promise((r) => setTimeout(r, 300));
    const events = [{ eventType: 'x', eventName: 'cross_replica' }, { eventType: 'x', eventName: 'cross_replica' }];
    assert.equal((await call(api.url, 'POST', '/api/events/batch', { secret: acct.write, body: { events } })).status, 202);
    const live = await dashboard.next('events', 5000, (m) => !m.snapshot && m.events.some((e: { eventName: string }) => e.eventName === 'cross_replica'));
    assert.equal(live.events.filter((e: { eventName: string }) => e.eventName === 'cross_replica').length, 2);
    assert.equal(live.subscription, 'feed');
    dashboard.close();
    await replicaB.stop('SIGTERM');
  });

  it("consumes Fechatter's NATS stream on a worker: killed -9 midway, the next worker stores every event once", async () => {
    const fechatter = {
      FECHATTER_NATS_ENABLED: 'true',
      FECHATTER_ACCOUNT_ID: acct.accountId,
      FECHATTER_NATS_STREAM: `F${stream}`,
      FECHATTER_NATS_SUBJECTS: `${stream.toLowerCase()}.fechatter.analytics.>`,
      FECHATTER_NATS_DEAD_LETTER_STREAM: `FDL${stream}`,
    };
    fechatterStreams.push(fechatter.FECHATTER_NATS_STREAM, fechatter.FECHATTER_NATS_DEAD_LETTER_STREAM);
    // The worker knows the account from the api's NeDB files (MongoDB in production).
    const fechatterWorker = () => {
      const w = new ServiceProcess({ ...env, ...fechatter, ROLE: 'worker', DATA_DIR: apiDataDir });
      processes.push(w);
      return w;
    };
    let w = fechatterWorker();
    await w.start(); // creates the stream and the consumer
    const nc = await connect({ servers: NATS_URL });
    try {
      const js = jetstream(nc);
      const jsm = await jetstreamManager(nc);
      const total = 3000;
      // Without client timestamps: each event is identified by its place in the stream.
      for (let i = 0; i < total; i += 100) {
        await Promise.all(
          Array.from({ length: 100 }, (_, j) =>
            js.publish(`${stream.toLowerCase()}.fechatter.analytics.message.sent`, encodeEvent('message_sent', { client_id: `c${(i + j) % 50}` }, { type: 'text', size: i + j })),
          ),
        );
      }
      await eventually(async () => {
        const info = await jsm.consumers.info(fechatter.FECHATTER_NATS_STREAM, 'analytics-processor');
        assert.ok(info.delivered.stream_seq > 0);
      }, 20_000);
      await w.stop('SIGKILL');
      w = fechatterWorker();
      await w.start();
      const stored = await waitForStoredEvents(api.url, acct.read, 'message_sent', total, { everyMs: 500 });
      await new Promise((r) => setTimeout(r, 3000)); // a late redelivery would add a duplicate now
      const again = await storedEventIds(api.url, acct.read, 'message_sent');
      assert.equal(stored.length, total, `worker said:\n${w.output.slice(-3000)}`);
      assert.equal(again.length, total, 'none stored twice');
      assert.equal(new Set(again).size, total);
    } finally {
      await nc.close();
      await w.stop('SIGTERM');
    }
  });

  it('serves only health and readiness on a worker, and the API on an api process', async () => {
    const w = worker();
    await w.start();
    assert.equal((await call(w.url, 'GET', '/ready')).status, 200);
    assert.equal((await call(w.url, 'POST', '/api/accounts', { body: { name: 'x' } })).status, 404);
    await assert.rejects(connectWs(w.url, { secret: acct.read }), 'no WebSocket gateway on a worker');
    assert.equal((await call(api.url, 'GET', '/api/events/search', { secret: acct.read })).status, 200);
    await w.stop('SIGTERM');
  });
});
