/**
 * bench/ingest: the service on embedded defaults vs bare Fastify, driven by autocannon on
 * loopback with 100 connections: single events and batches of 100. Prints events/s, p50/p99
 * and the ratio to bare Fastify; then checks the store holds exactly the acknowledged events
 * and how long an acknowledged event takes to become searchable. A last run sends web traffic
 * (page views of many devices, no session ids), which the writer assigns to sessions and
 * summarizes: it prints how long the writer took to store it after the last ack, and checks the
 * session rollup counts exactly the stored sessions.
 *
 *   npm run bench:ingest   (BENCH_CONNECTIONS=100, BENCH_SINGLE_REQUESTS=200000, BENCH_BATCH_REQUESTS=4000,
 *                           BENCH_WEB_REQUESTS=2000, BENCH_WEB_DEVICES=20000)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
// Fixed request counts rather than a duration: every request completes, so the client's count
// of acknowledged events is exact and can be compared with the store.
const SINGLE_REQUESTS = Number(process.env.BENCH_SINGLE_REQUESTS ?? 200_000);
const BATCH_REQUESTS = Number(process.env.BENCH_BATCH_REQUESTS ?? 4_000);
const WEB_REQUESTS = Number(process.env.BENCH_WEB_REQUESTS ?? 2_000);
const WEB_DEVICES = Number(process.env.BENCH_WEB_DEVICES ?? 20_000);
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
  makeBody?: () => string,
): Promise<Run> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': UA };
  if (secret) headers.authorization = `Bearer ${secret}`;
  // autocannon notices that `amount` is reached on a one-second tick, so time the run from the
  // start to the last response instead of to the promise's resolution.
  const started = performance.now();
  let lastResponse = started;
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const requests = makeBody ? [{ setupRequest: (req: autocannon.Request) => ({ ...req, body: makeBody() }) }] : undefined;
    const instance = autocannon({ url, method: 'POST', headers, body, connections: CONNECTIONS, amount, requests }, (err, result) =>
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

  const single = await load('service, single', `${base}/api/events`, SINGLE, 1, SINGLE_REQUESTS, write);
  const batch = await load('service, batch 100', `${base}/api/events/batch`, BATCH, 100, BATCH_REQUESTS, write);

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
  const acknowledged = single.ok + batch.ok * 100 + searchable.length + web.ok * 100;
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

  const rows = [bareSingle, single, bareBatch, batch, web];
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
  rmSync(dataDir, { recursive: true, force: true });
  if (stored !== acknowledged || storedSessions !== rolledSessions) process.exitCode = 1;
}

await main();
