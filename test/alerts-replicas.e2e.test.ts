import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it as test } from 'node:test';
import { AlertEvaluator, AlertScheduler, AlertsRepository } from '../src/alerts/index.js';
import { IngestPipelineService } from '../src/events/ingest-pipeline.service.js';
import { DOCUMENT_STORE, type DocumentStore } from '../src/infrastructure/documents/documents.port.js';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';
import { ChdbHttpHarness } from './support/chdb-http-harness.js';
import { HttpReceiver } from './support/http-receiver.js';
import { needs, REDIS_URL } from './support/services.js';
import { TestSmtp, until } from './support/smtp.js';

const skip = await needs('redis');
const H = 3_600_000;
const DAY = 24 * H;
const BASE = Math.floor((Date.now() - 2 * DAY) / DAY) * DAY;
/** Errors per hour: > 5 at hours 0, 2, 4 and 6; each breach fires and the next hour recovers. */
const ERRORS = [9, 1, 9, 1, 9, 1, 9, 1];

/**
 * Two replicas as a split deployment runs them: jobs on one Redis (Bull), the alert locks on
 * Redis, one events store (ClickHouse's HTTP interface, served from chDB) and one documents
 * store. The documents store is one NeDB instance both app instances share in this process:
 * NeDB files cannot be shared by two processes, and MongoDB is not on this machine.
 */
describe('alerts on two replicas', () => {
  const it = (title: string, fn: () => Promise<void>) => test(title, { skip }, fn);
  const harness = new ChdbHttpHarness(mkdtempSync(join(tmpdir(), 'alerts-ch-')));
  const smtp = new TestSmtp();
  const receiver = new HttpReceiver();
  let a: TestApp;
  let b: TestApp;
  let acme: Credentials;

  before(async () => {
    if (skip) return;
    await smtp.start();
    await receiver.start();
    const env = {
      CLICKHOUSE_URL: await harness.start(),
      CLICKHOUSE_DATABASE: `alerts_${randomUUID().slice(0, 8)}`,
      REDIS_URL,
      JOBS_PREFIX: `test-alerts-${randomUUID().slice(0, 8)}`,
      SIGNING_SECRET: 'a-secret-both-replicas-share',
      SMTP_URL: smtp.url,
      ALERTS_ALLOW_PRIVATE_URLS: 'true',
      ALERTS_EVAL_INTERVAL: '3600',
      ALERTS_EVAL_DELAY: '0',
    };
    a = await startApp(env);
    b = await startApp(env, { documentStore: a.app.get<DocumentStore>(DOCUMENT_STORE) });
    acme = await createAccount(a.url, 'acme');
    const events = ERRORS.flatMap((n, h) => Array.from({ length: n }, (_, i) => ({ eventType: 'log', eventName: 'error', timestamp: BASE + h * H + i * 1000 })));
    assert.equal((await call(a.url, 'POST', '/api/events/batch', { secret: acme.write, body: { events } })).status, 202);
    await a.app.get(IngestPipelineService).flush();
  });
  after(async () => {
    if (skip) return;
    await b?.close();
    await a?.close();
    await harness.stop();
    await receiver.stop();
    await smtp.stop();
  });

  it('judges each window once and notifies each state change exactly once per channel, a 500 then 200 accepted once', async () => {
    // The webhook's first request answers 500, every later one 200.
    receiver.answer = (n) => (n === 1 ? 500 : 200);
    const metric = await call(b.url, 'POST', '/api/metrics', { secret: acme.admin, body: { name: 'errors', type: 'counter', aggregation: 'count', eventName: 'error' } });
    const created = await call(b.url, 'POST', '/api/alerts', {
      secret: acme.admin,
      body: {
        name: 'Errors',
        metric: metric.body.id,
        condition: 'greater_than',
        threshold: 5,
        window: '1h',
        cooldown: 0,
        channels: [{ type: 'webhook', url: `${receiver.url}/hook` }, { type: 'email', to: ['oncall@example.com'] }],
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id;
    const replicas = [a, b];
    const state = () => a.app.get(AlertsRepository).state(id);

    for (let h = 0; h < ERRORS.length; h++) {
      const end = BASE + (h + 1) * H;
      if (h % 2 === 0) {
        // Both replicas tick at once: both enqueue the same job; one worker judges it.
        await a.app.get(AlertsRepository).schedule(id, end);
        const enqueued = await Promise.all(replicas.map((r) => r.app.get(AlertScheduler).tick(end)));
        assert.deepEqual(enqueued, [1, 1]);
        await until(`hour ${h} judged`, async () => (await state())?.lastWindowEnd === end, 30_000);
      } else {
        // Both replicas judge the same window at the same moment: the lock lets one do it.
        const judged = await Promise.all(replicas.map((r) => r.app.get(AlertEvaluator).evaluate(id, end)));
        assert.deepEqual(judged.sort(), [0, 1], `hour ${h}: judged by exactly one replica`);
      }
      // Late duplicates of the job are no-ops.
      assert.deepEqual(await Promise.all(replicas.map((r) => r.app.get(AlertEvaluator).evaluate(id, end))), [0, 0]);
    }

    // Eight windows: firing, ok, firing, ok, … — eight state changes, eight notifications.
    await until('every webhook accepted', async () => new Set(receiver.accepted().map((r) => r.headers['idempotency-key'])).size === 8, 60_000).catch(async (err) => {
      const deliveries = await a.app.get(AlertsRepository).deliveriesOf(id);
      throw new Error(`${(err as Error).message}: ${receiver.requests.length} requests; deliveries ${JSON.stringify(deliveries.map((d) => [d._id, d.status, d.attempts]))}`);
    });
    await until('every email', async () => smtp.accepted.length === 8, 60_000);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(receiver.accepted().length, 8, 'each state change accepted exactly once by the webhook');
    assert.equal(receiver.requests.length, 9, 'one retry after the 500, no duplicates');
    const first = receiver.requests.filter((r) => r.headers['idempotency-key'] === receiver.requests[0]!.headers['idempotency-key']);
    assert.deepEqual(first.map((r) => r.status), [500, 200], 'the refused delivery was retried with the same idempotency key, once');
    assert.equal(smtp.accepted.length, 8, 'each state change emailed exactly once');
    assert.deepEqual(
      receiver
        .accepted()
        .map((r) => JSON.parse(r.body))
        .sort((x, y) => Date.parse(x.window.from) - Date.parse(y.window.from))
        .map((p) => p.kind),
      ['firing', 'resolved', 'firing', 'resolved', 'firing', 'resolved', 'firing', 'resolved'],
    );
    const history = (await call(a.url, 'GET', `/api/alerts/${id}/history?limit=1000`, { secret: acme.read })).body.history as Record<string, any>[];
    assert.equal(history.filter((e) => e.type === 'state_change').length, 8);
  });
});
