/**
 * bench/ingest: the service on embedded defaults vs bare Fastify, driven by autocannon on
 * loopback with 100 connections: single events and batches of 100. Prints events/s, p50/p99
 * and the ratio to bare Fastify; then checks the store holds exactly the acknowledged events
 * and how long an acknowledged event takes to become searchable. A last run sends web traffic
 * (page views of many devices, no session ids), which the writer assigns to sessions and
 * summarizes: it prints how long the writer took to store it after the last ack, and checks the
 * session rollup counts exactly the stored sessions.
 *
 * Fechatter's source: batches of 100 protobuf events (`POST /api/batch`) and the same events as
 * JSON (`/api/batch/json`), against the Events API's JSON batches above; then, with NATS
 * reachable, the service restarted with FECHATTER_NATS_ENABLED consumes BENCH_NATS_MESSAGES
 * messages published to `fechatter.analytics.>` (one event each): the time until all are stored,
 * with when the publisher finished and when the consumer had acknowledged the last one, so the
 * slowest stage shows.
 *
 *   npm run bench:ingest   (BENCH_CONNECTIONS=100, BENCH_SINGLE_REQUESTS=200000, BENCH_BATCH_REQUESTS=4000,
 *                           BENCH_WEB_REQUESTS=2000, BENCH_WEB_DEVICES=20000, BENCH_NATS_MESSAGES=200000,
 *                           BENCH_NATS_URL=nats://127.0.0.1:4222)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { AnalyticsEventType, BatchRecordEventsRequestType } from '../src/sources/fechatter/fechatter-proto.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
// Fixed request counts rather than a duration: every request completes, so the client's count
// of acknowledged events is exact and can be compared with the store.
const SINGLE_REQUESTS = Number(process.env.BENCH_SINGLE_REQUESTS ?? 200_000);
const BATCH_REQUESTS = Number(process.env.BENCH_BATCH_REQUESTS ?? 4_000);
const WEB_REQUESTS = Number(process.env.BENCH_WEB_REQUESTS ?? 2_000);
const WEB_DEVICES = Number(process.env.BENCH_WEB_DEVICES ?? 20_000);
const NATS_MESSAGES = Number(process.env.BENCH_NATS_MESSAGES ?? 200_000);
const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const ROOT = 'bench-root-key-0123456789abcdef';
const here = fileURLToPath(new URL('.', import.meta.url));

const EVENT = {
  eventType: 'message',
  eventName: 'message_sent',
  userId: 'user-42',
  sessionId: 'session-7',
  properties: { campaignId: '123', groupId: '456', messageType: 'text', charactersCount: 150 },
  context: { locale: 'en-US' },
};
const SINGLE = JSON.stringify(EVENT);
const BATCH = JSON.stringify({ events: Array.from({ length: 100 }, () => EVENT) });
let webEvents = 0;
/** A batch of 100 page views, each of the next device in turn (so a batch spans 100 sessions). */
function webBatch(): string {
  const events = Array.from({ length: 100 }, () => {
    const n = webEvents++;
    return {
      eventType: 'track',
      eventName: 'screen_view',
      anonymousId: `device-${n % WEB_DEVICES}`,
      context: { page: { url: `https://shop.example.com/page-${n % 50}` } },
    };
  });
  return JSON.stringify({ events });
}
/**
 * A Fechatter message_sent event as its clients send it. Each has its own client timestamp (so
 * none is taken for a retry of another), and 50 clients share the traffic.
 */
let fechatterEvents = 0;
const FECHATTER_BASE_TS = Date.now() - 3_600_000;
function fechatterEvent(appVersion = '1.4.0') {
  const n = fechatterEvents++;
  return {
    context: { client_id: `desktop-${n % 50}`, user_id: `user-${n % 500}`, app_version: appVersion, client_ts: FECHATTER_BASE_TS + n },
    message_sent: { chat_id: `chat-${n % 30}`, type: 'text', size: 150, total_files: 0, has_mentions: n % 7 === 0, has_links: false },
  };
}
/** Bodies made before the run (as the JSON runs' are), so the client's own encoding is not timed. */
function fechatterBodies(count: number, encode: (events: ReturnType<typeof fechatterEvent>[]) => string | Buffer): (string | Buffer)[] {
  return Array.from({ length: count }, () => encode(Array.from({ length: 100 }, fechatterEvent)));
}
const protobufBatch = (events: ReturnType<typeof fechatterEvent>[]) =>
  Buffer.from(BatchRecordEventsRequestType.encode(BatchRecordEventsRequestType.fromObject({ events })).finish());
/** The same events as canonical Events API events (their ids, device, session and properties), for a like-for-like JSON run. */
const canonicalBatch = (events: ReturnType<typeof fechatterEvent>[]) =>
  JSON.stringify({
    events: events.map(({ context, message_sent }) => ({
      eventId: randomUUID(),
      eventType: 'message',
      eventName: 'message_sent',
      timestamp: context.client_ts,
      userId: context.user_id,
      anonymousId: context.client_id,
      sessionId: `session-${context.client_id}`,
      properties: { ...message_sent, app_version: context.app_version },
      context: { userAgent: '' },
    })),
  });
const jsonBatch = (events: ReturnType<typeof fechatterEvent>[]) =>
  JSON.stringify({ events: events.map(({ context, message_sent }) => ({ context, event_type: { message_sent } })) });

const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';

interface Run {
  label: string;
  eventsPerRequest: number;
  requestsPerSec: number;
  seconds: number;
  p50: number;
  p99: number;
  ok: number;
  failed: number;
}

function start(script: string, port: number, env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    const wait = async () => {
      for (let i = 0; i < 300; i++) {
        try {
          await fetch(`http://127.0.0.1:${port}/health`);
          return resolve(child);
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      reject(new Error(`${script} did not start`));
    };
    void wait();
  });
}

async function load(
  label: string,
  url: string,
  body: string,
  eventsPerRequest: number,
  amount: number,
  secret?: string,
  makeBody?: () => string | Buffer,
  contentType = 'application/json',
): Promise<Run> {
  const headers: Record<string, string> = { 'content-type': contentType, 'user-agent': UA };
  if (secret) headers.authorization = `Bearer ${secret}`;
  // autocannon notices that `amount` is reached on a one-second tick, so time the run from the
  // start to the last response instead of to the promise's resolution.
  const started = performance.now();
  let lastResponse = started;
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const requests = makeBody ? [{ setupRequest: (req: autocannon.Request) => ({ ...req, body: makeBody() as string }) }] : undefined;
    // A 60 s timeout: a request that timed out may still have been stored, which would spoil the exact count.
    const instance = autocannon({ url, method: 'POST', headers, body, connections: CONNECTIONS, amount, requests, timeout: 60 }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
    instance.on('response', () => {
      lastResponse = performance.now();
    });
  });
  const seconds = (lastResponse - started) / 1000;
  return {
    label,
    eventsPerRequest,
    seconds,
    requestsPerSec: (r['2xx'] + r.non2xx) / seconds,
    p50: r.latency.p50,
    p99: r.latency.p99,
    ok: r['2xx'],
    failed: r.non2xx + r.errors + r.timeouts,
  };
}

async function stop(child: ChildProcess): Promise<void> {
  child.removeAllListeners('exit');
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-ingest-'));
  console.log(
    `bench/ingest: ${CONNECTIONS} connections, ${SINGLE_REQUESTS} single requests, ${BATCH_REQUESTS} batch requests, node ${process.version}\n`,
  );

  const bare = await start(join(here, 'bare-server.js'), 3990, {});
  const bareSingle = await load('bare fastify, single', 'http://127.0.0.1:3990/api/events', SINGLE, 1, SINGLE_REQUESTS);
  const bareBatch = await load('bare fastify, batch 100', 'http://127.0.0.1:3990/api/events/batch', BATCH, 100, BATCH_REQUESTS);
  await stop(bare);

  const env = { DATA_DIR: dataDir, LOG_LEVEL: 'warn', ROOT_API_KEY: ROOT };
  const service = await start(join(here, '..', 'src', 'main.js'), 3991, env);
  const base = 'http://127.0.0.1:3991';
  const account = (await (
    await fetch(`${base}/api/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ROOT}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench' }),
    })
  ).json()) as { clients: { write: { clientSecret: string }; read: { clientSecret: string } } };
  const write = account.clients.write.clientSecret;
  const read = account.clients.read.clientSecret;

  // Each run starts with the writer idle: a run is not slowed by storing the previous one's events.
  const settled = async () => {
    for (;;) {
      const r = (await (await fetch(`${base}/ready`)).json()) as { ingest: { pendingEvents: number } };
      if (r.ingest.pendingEvents === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const single = await load('service, single', `${base}/api/events`, SINGLE, 1, SINGLE_REQUESTS, write);
  await settled();
  const batch = await load('service, batch 100', `${base}/api/events/batch`, BATCH, 100, BATCH_REQUESTS, write);
  await settled();
  const next = (bodies: (string | Buffer)[]) => {
    let i = 0;
    return () => bodies[i++ % bodies.length]!;
  };
  const protobuf = await load('Fechatter protobuf, batch 100', `${base}/api/batch`, '', 100, BATCH_REQUESTS, write, next(fechatterBodies(BATCH_REQUESTS, protobufBatch)), 'application/protobuf');
  await settled();
  const fechatterJson = await load('Fechatter JSON, batch 100', `${base}/api/batch/json`, '', 100, BATCH_REQUESTS, write, next(fechatterBodies(BATCH_REQUESTS, jsonBatch)));
  await settled();
  const canonical = await load('Events API JSON, batch 100 of the same events', `${base}/api/events/batch`, '', 100, BATCH_REQUESTS, write, next(fechatterBodies(BATCH_REQUESTS, canonicalBatch)));
  await settled();

  // Time from ack to searchable, a few samples.
  const searchable: number[] = [];
  for (let i = 0; i < 5; i++) {
    const marker = `probe${Date.now()}x${i}`;
    const res = await fetch(`${base}/api/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${write}`, 'content-type': 'application/json' },
      body: JSON.stringify({ eventType: 'probe', eventName: marker }),
    });
    const acked = performance.now();
    if (res.status !== 202) throw new Error(`probe not accepted: ${res.status}`);
    for (;;) {
      const found = (await (
        await fetch(`${base}/api/events/search?eventName=${marker}`, { headers: { authorization: `Bearer ${read}` } })
      ).json()) as { events: unknown[] };
      if (found.events.length > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    searchable.push(performance.now() - acked);
  }

  // Web traffic last: the writer is idle (the probes were searchable), so what it still has to
  // store when the run ends is this run's.
  const web = await load('service, web batch 100 (sessions)', `${base}/api/events/batch`, '', 100, WEB_REQUESTS, write, webBatch);

  // Exactly the acknowledged events are stored: stop (drains the log), then count in chDB directly.
  const draining = performance.now();
  await stop(service);
  const drainSeconds = (performance.now() - draining) / 1000;
  const acknowledged = single.ok + batch.ok * 100 + searchable.length + web.ok * 100 + protobuf.ok * 100 + fechatterJson.ok * 100 + canonical.ok * 100;
  const { Session, drainPending } = await import('chdb');
  const session = new Session(join(dataDir, 'chdb'));
  const stored = Number(session.query('SELECT count() FROM events', 'TSV').trim());
  const [storedSessions, rolledSessions] = session
    .query(
      `SELECT (SELECT uniqExact(session_id) FROM events WHERE session_id != ''), (SELECT sum(sessions) FROM session_rollup WHERE dimension = '')`,
      'TSV',
    )
    .trim()
    .split('\t')
    .map(Number);
  const bytesOnDisk = Number(
    session.query("SELECT sum(bytes_on_disk) FROM system.parts WHERE table = 'events' AND active", 'TSV').trim(),
  );
  const parts = Number(session.query("SELECT count() FROM system.parts WHERE table = 'events' AND active", 'TSV').trim());
  session.close();
  await drainPending();

  const nats = await natsRun(dataDir, (account as unknown as { id: string }).id);

  const rows = [bareSingle, single, bareBatch, batch, protobuf, fechatterJson, canonical, web];
  console.log('| run | events/s | requests/s | p50 ms | p99 ms | 2xx | failed | seconds |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.label} | ${Math.round(r.requestsPerSec * r.eventsPerRequest)} | ${Math.round(r.requestsPerSec)} | ${r.p50} | ${r.p99} | ${r.ok} | ${r.failed} | ${r.seconds.toFixed(1)} |`,
    );
  }
  console.log('');
  console.log(`ratio to bare fastify, single: ${(single.requestsPerSec / bareSingle.requestsPerSec).toFixed(2)}`);
  console.log(`ratio to bare fastify, batch 100: ${(batch.requestsPerSec / bareBatch.requestsPerSec).toFixed(2)}`);
  console.log(
    `Fechatter protobuf batches vs JSON batches: the same events through the Events API ${(protobuf.requestsPerSec / canonical.requestsPerSec).toFixed(2)}, ` +
      `Fechatter's JSON twin ${(protobuf.requestsPerSec / fechatterJson.requestsPerSec).toFixed(2)}, the Events API's 100 copies of one event (no ids, no device) ${(protobuf.requestsPerSec / batch.requestsPerSec).toFixed(2)}`,
  );
  console.log(`acknowledged events: ${acknowledged}, stored: ${stored} -> ${stored === acknowledged ? 'exact' : 'MISMATCH'}`);
  const webSeconds = web.seconds + drainSeconds;
  console.log(
    `web run: ${web.ok * 100} events of ${WEB_DEVICES} devices acknowledged in ${web.seconds.toFixed(1)} s, all stored ${drainSeconds.toFixed(1)} s later (sessions assigned and summarized): ${Math.round((web.ok * 100) / webSeconds)} events/s end to end`,
  );
  console.log(`sessions: ${storedSessions} stored, ${rolledSessions} in the session rollup -> ${storedSessions === rolledSessions ? 'exact' : 'MISMATCH'}`);
  console.log(`store: ${parts} active parts, ${(bytesOnDisk / 1024 / 1024).toFixed(1)} MiB on disk`);
  const sorted = [...searchable].sort((a, b) => a - b);
  console.log(
    `ack -> searchable: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms (flush interval 1000 ms)`,
  );
  if (nats) {
    const rate = (seconds: number) => Math.round(NATS_MESSAGES / seconds);
    console.log(
      `NATS: ${NATS_MESSAGES} messages published in ${nats.publishSeconds.toFixed(1)} s (${rate(nats.publishSeconds)}/s); then drained: ` +
        `all acknowledged by the consumer in ${nats.ackedSeconds.toFixed(1)} s (${rate(nats.ackedSeconds)}/s), all stored in ${nats.storedSeconds.toFixed(1)} s ` +
        `(${rate(nats.storedSeconds)} events/s end to end); stored ${nats.stored} -> ${nats.stored === NATS_MESSAGES ? 'exact' : 'MISMATCH'}`,
    );
    const limit = nats.storedSeconds - nats.ackedSeconds > nats.ackedSeconds * 0.2 ? 'the store (the writer lagged the consumer)' : 'the consumer (the writer kept up)';
    console.log(
      `NATS drain vs the store's end-to-end write rate of the web run: ${(rate(nats.storedSeconds) / ((web.ok * 100) / webSeconds)).toFixed(2)}; the limit: ${limit}`,
    );
  } else console.log('NATS: not reachable at ' + NATS_URL + ', run skipped');
  rmSync(dataDir, { recursive: true, force: true });
  if (stored !== acknowledged || storedSessions !== rolledSessions || (nats && nats.stored !== NATS_MESSAGES)) process.exitCode = 1;
}

/**
 * The service again on the same data, now consuming Fechatter's stream: publishes the messages
 * (acknowledged by JetStream) and follows the consumer (/ready) until the store holds them all.
 */
async function natsRun(dataDir: string, accountId: string) {
  let nc: Awaited<ReturnType<typeof connect>>;
  try {
    nc = await connect({ servers: NATS_URL, timeout: 2000 });
  } catch {
    return null;
  }
  const stream = `BENCH_FECHATTER_${process.pid}`;
  const deadLetters = `BENCH_FECHATTER_DL_${process.pid}`;
  const jsm = await jetstreamManager(nc);
  // The stream as Fechatter's deployment has it (the service leaves an existing stream alone).
  await jsm.streams.add({ name: stream, subjects: ['fechatter.analytics.>'], storage: StorageType.File });
  const js = jetstream(nc);
  // Publish first, then drain: the consumer's and the store's rate, not the publisher's.
  const publishing = performance.now();
  for (let i = 0; i < NATS_MESSAGES; i += 1000) {
    const n = Math.min(1000, NATS_MESSAGES - i);
    // Distinct events (each its own client timestamp), marked as this run's by their app version.
    await Promise.all(
      Array.from({ length: n }, () => js.publish('fechatter.analytics.message.sent', AnalyticsEventType.encode(AnalyticsEventType.fromObject(fechatterEvent('nats'))).finish())),
    );
  }
  const publishSeconds = (performance.now() - publishing) / 1000;

  const env = {
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ROOT_API_KEY: ROOT,
    FECHATTER_NATS_ENABLED: 'true',
    FECHATTER_NATS_URL: NATS_URL,
    FECHATTER_ACCOUNT_ID: accountId,
    FECHATTER_NATS_STREAM: stream,
    FECHATTER_NATS_DEAD_LETTER_STREAM: deadLetters,
  };
  const service = await start(join(here, '..', 'src', 'main.js'), 3992, env);
  const base = 'http://127.0.0.1:3992';
  const ready = async () =>
    (await (await fetch(`${base}/ready`)).json()) as { ingest: { flushedEvents: number }; fechatterNats: { messages: number; connected: boolean } };
  // From the consumer's connection (the service's boot is not the drain).
  while (!(await ready()).fechatterNats.connected) await new Promise((r) => setTimeout(r, 20));
  const started = performance.now();
  let ackedAt = 0;
  let storedAt = 0;
  while (!storedAt) {
    const r = await ready();
    if (!ackedAt && r.fechatterNats.messages >= NATS_MESSAGES) ackedAt = performance.now();
    if (r.ingest.flushedEvents >= NATS_MESSAGES) storedAt = performance.now();
    else await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop(service);
  const { Session, drainPending } = await import('chdb');
  const session = new Session(join(dataDir, 'chdb'));
  const stored = Number(session.query(`SELECT count() FROM events WHERE JSONExtractString(properties, 'app_version') = 'nats'`, 'TSV').trim());
  session.close();
  await drainPending();
  await jsm.streams.delete(stream).catch(() => undefined);
  await jsm.streams.delete(deadLetters).catch(() => undefined);
  await nc.close();
  return { publishSeconds, ackedSeconds: (ackedAt - started) / 1000, storedSeconds: (storedAt - started) / 1000, stored };
}

await main();
