/**
 * bench/realtime: BENCH_CLIENTS (default 1,000) WebSocket clients on /ws/analytics, each
 * subscribed to `events` and `counters`, while a steady BENCH_RATE (default 5,000) events/s come
 * in through POST /api/events/batch for BENCH_SECONDS (default 20) per run. Prints the time from
 * an event's ack to its arrival at a client (p50 / p99 / max over every event every client got),
 * events and messages per client per second, what share of the events a client got and the
 * `sampleRate` it was told, the `dropped` messages the server reported, and the server's CPU
 * and peak RSS; then the same figures against the baseline measured first in the same run: the
 * same ingest with no client connected (the service publishes nothing live then). Goal on this
 * 2-core machine: p99 under 10 ms (the spec promises under 50 ms), nothing dropped for clients
 * that keep up, and the ingest rate within 10 % of the run without clients.
 *
 *   npm run bench:realtime   (BENCH_CLIENTS=1000 BENCH_RATE=5000 BENCH_SECONDS=20 BENCH_BATCH=50
 *                             BENCH_CONNECTIONS=4 BENCH_MAX_PER_SECOND=100,1000 BENCH_WARMUP_SECONDS=3)
 *   npx tsc -p tsconfig.json && node dist/bench/realtime.js      (the same, without emptying dist first)
 *
 * A smoke run in about half a minute: BENCH_CLIENTS=50 BENCH_RATE=1000 BENCH_SECONDS=5.
 *
 * Three processes, so that each one's CPU and memory are its own: the service (`node
 * dist/src/main.js` on embedded defaults, a fresh DATA_DIR, LOG_LEVEL=warn; the LIVE_* settings
 * are taken from this environment, e.g. LIVE_MAX_MESSAGES_PER_SECOND=100 to compare), the
 * clients (this file again, forked with `clients`: every socket in this one process, where real
 * dashboards would each have their own) and this one, the load generator. The server's CPU is the change of
 * utime+stime in /proc/<pid>/stat over a run, in cores, also for its main (JavaScript) thread
 * alone (/proc/<pid>/task/<pid>/stat: chDB's threads are the rest); its RSS is VmRSS sampled
 * every 100 ms, the peak of the run. The clients' process is measured the same way, with its
 * event loop delay: when it is busy, messages wait in it and the latency counts that too. The
 * machine's busy cores (/proc/stat) less the three processes' are printed as "other processes":
 * above 0.2 cores the figures are not the service's alone and the bench says so.
 *
 * Ingest: batches of BENCH_BATCH events, one due every BENCH_BATCH / BENCH_RATE seconds from the
 * run's start (a late timer sends what is due at once: catch-up), over BENCH_CONNECTIONS
 * keep-alive connections with at most 8 requests waiting per connection (beyond, the generator
 * falls behind and the achieved rate shows it). Each event carries its batch's number, 10 event
 * names, 5,000 users and 1,000 sessions. A warm-up of BENCH_WARMUP_SECONDS precedes the runs.
 *
 * Clients: every client gets a live token (POST /api/live/tokens with the read secret), opens
 * ws://127.0.0.1/ws/analytics?token=…, subscribes to `events` with no filter and `maxPerSecond`
 * (each value of BENCH_MAX_PER_SECOND is a run; the protocol's default is 100, its maximum
 * 1,000, so no client gets all 5,000 events/s: above it the server sends a sample and says so in
 * `sampleRate`) and to `counters` (default top 10). The server also bounds the messages a socket
 * gets (LIVE_MAX_MESSAGES_PER_SECOND, default 20; the `ready` message states it): updates in
 * between wait and coalesce. A run's latency is measured on every non-snapshot event a client
 * receives whose `receivedAt` (the server's ack time, epoch ms, taken after the event is durable
 * and just before the reply) falls in the run: its arrival (Date.now() in the clients' process,
 * the same clock) minus `receivedAt`, so whole milliseconds. For every batch some client got, the
 * load generator's own ack time (the response's end) is set against the first arrival at any
 * client. Events arriving up to 2 s after the last ack still count.
 *
 * Sampling as the server does it: the subscriptions of an account that ask for the same filter and
 * maxPerSecond form one group, which samples each batch once from a token bucket of up to a
 * second's worth of events refilled continuously (so under a steady stream every batch gives a
 * few events), gathers them for at most LIVE_MAX_MESSAGES_PER_SECOND flushes a second and
 * serializes each flush once for all its sockets. With every client asking the same, as here,
 * all get the same events; the line "N of M batches reached some client" shows how many batches
 * gave at least one.
 *
 * Only 127.0.0.1; the run ends after 1 + the number of BENCH_MAX_PER_SECOND values runs.
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { percentile, ROOT_KEY } from './embedded-service.js';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
const RATE = Number(process.env.BENCH_RATE ?? 5000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const BATCH = Number(process.env.BENCH_BATCH ?? 50);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const MAX_PER_SECOND = (process.env.BENCH_MAX_PER_SECOND ?? '100,1000').split(',').map((s) => Number(s.trim()));
/** Events arriving this long after a run's last ack still count. */
const DRAIN_MS = 2000;
/** Latency histogram: one bin per millisecond up to this, then one bin for the rest. */
const HIST_MS = 10_000;
const NAMES = ['page_view', 'click', 'signup', 'login', 'search', 'add_to_cart', 'checkout', 'purchase', 'share', 'logout'];
const MiB = 1024 * 1024;

// ---- Messages between this process and the clients' process -----------------------------------

interface Limits {
  maxMessageBytes: number;
  maxMessagesPerSecond: number;
  queue: number;
}

type ToClients =
  | { cmd: 'connect'; url: string; tokens: string[]; maxPerSecond: number }
  | { cmd: 'resubscribe'; maxPerSecond: number }
  | { cmd: 'start'; from: number }
  | { cmd: 'stop'; to: number }
  | { cmd: 'close' };

interface ClientsReport {
  /** Clients open at the end of the run, and closed during it. */
  open: number;
  closed: number;
  /** The run's span (first to last ack), seconds. */
  seconds: number;
  hist: number[];
  max: number;
  /** Events received (of the run), in all and the fewest and most a client got. */
  events: number;
  clientMin: number;
  clientMax: number;
  /** Non-snapshot messages arrived during the run, by type. */
  messages: number;
  eventsMessages: number;
  countersMessages: number;
  /** `matched` summed over events messages, those with sampleRate < 1, and the lowest sampleRate. */
  matched: number;
  sampledMessages: number;
  sampleRateMin: number;
  dropped: number;
  clientsWithDrops: number;
  errors: number;
  firstError: string | null;
  /** Mean `eventsPerSecond` of the counters of the seconds wholly inside the run, and how many. */
  countersEps: number;
  countersSeconds: number;
  /** [batch number, receivedAt, first arrival at any client]. */
  first: [number, number, number][];
  loopDelayP99: number;
  loopDelayMax: number;
}

type FromClients =
  | { type: 'connected'; ok: number; failed: number; error: string | null; limits: Limits | null; ms: number }
  | { type: 'resubscribed'; ok: number; failed: number; error: string | null }
  | { type: 'report'; report: ClientsReport };

// ---- The clients' process ---------------------------------------------------------------------

interface Client {
  ws: WebSocket;
  events: number;
  dropped: number;
  closed: boolean;
  /** Called on each `subscribed`. */
  onSubscribed: (() => void) | null;
}

interface Recording {
  from: number;
  to: number;
  /** When `stop` came: messages after it are not counted in messages per second. */
  stoppedAt: number;
  hist: number[];
  max: number;
  events: number;
  messages: number;
  eventsMessages: number;
  countersMessages: number;
  matched: number;
  sampledMessages: number;
  sampleRateMin: number;
  dropped: number;
  errors: number;
  firstError: string | null;
  closed: number;
  /** A counters message's second (`at`) → its `eventsPerSecond` (the same for every socket). */
  countersBySecond: Map<number, number>;
  first: Map<number, [number, number]>;
}

async function clientsMain(): Promise<void> {
  const clients: Client[] = [];
  let limits: Limits | null = null;
  let rec: Recording | null = null;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  const send = (m: FromClients) => process.send!(m);

  const onMessage = (c: Client, raw: Buffer) => {
    const arrived = Date.now();
    const m = JSON.parse(raw.toString()) as Record<string, any> & { type: string };
    if (m.type === 'subscribed') return c.onSubscribed?.();
    if (m.type === 'ready') {
      limits ??= m.limits as Limits;
      return;
    }
    const r = rec;
    if (!r || m.snapshot === true) return;
    if (arrived <= r.stoppedAt) r.messages++;
    switch (m.type) {
      case 'events': {
        if (arrived <= r.stoppedAt) r.eventsMessages++;
        r.matched += m.matched as number;
        if (m.sampleRate < 1) r.sampledMessages++;
        if (m.sampleRate < r.sampleRateMin) r.sampleRateMin = m.sampleRate;
        for (const e of m.events as { receivedAt: number; properties: { seq: number } }[]) {
          if (e.receivedAt < r.from || e.receivedAt > r.to) continue;
          const latency = arrived - e.receivedAt;
          r.hist[Math.min(HIST_MS, Math.max(0, latency))]!++;
          if (latency > r.max) r.max = latency;
          r.events++;
          c.events++;
          const seq = e.properties.seq;
          const f = r.first.get(seq);
          if (!f) r.first.set(seq, [e.receivedAt, arrived]);
          else if (arrived < f[1]) f[1] = arrived;
        }
        return;
      }
      case 'counters':
        if (arrived <= r.stoppedAt) r.countersMessages++;
        r.countersBySecond.set(Date.parse(m.at as string), m.eventsPerSecond as number);
        return;
      case 'dropped':
        r.dropped += m.count as number;
        c.dropped += m.count as number;
        return;
      case 'error':
        r.errors++;
        r.firstError ??= `${m.code}: ${m.message}`;
        return;
    }
  };

  const subscribeEvents = (c: Client, maxPerSecond: number) =>
    c.ws.send(JSON.stringify({ type: 'subscribe', id: 'events', topic: 'events', maxPerSecond }));

  /** Resolves once the socket's subscriptions are confirmed (`want` of them). */
  const confirmed = (c: Client, want: number, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      let left = want;
      const timer = setTimeout(() => reject(new Error(`no "subscribed" within ${timeoutMs} ms`)), timeoutMs);
      c.onSubscribed = () => {
        if (--left > 0) return;
        clearTimeout(timer);
        c.onSubscribed = null;
        resolve();
      };
    });

  const open = (url: string, token: string, maxPerSecond: number) =>
    new Promise<Client>((resolve, reject) => {
      // The bench's clients share one process: skip the UTF-8 check of every frame (the server sends JSON).
      const ws = new WebSocket(`${url}?token=${encodeURIComponent(token)}`, { skipUTF8Validation: true });
      const c: Client = { ws, events: 0, dropped: 0, closed: false, onSubscribed: null };
      confirmed(c, 2, 30_000).then(() => resolve(c), reject);
      ws.on('message', (raw: Buffer) => onMessage(c, raw));
      ws.once('open', () => {
        subscribeEvents(c, maxPerSecond);
        ws.send(JSON.stringify({ type: 'subscribe', id: 'counters', topic: 'counters' }));
      });
      ws.on('error', (err) => reject(err));
      ws.on('close', (code, reason) => {
        c.closed = true;
        if (rec) rec.closed++;
        reject(new Error(`closed ${code} ${String(reason)}`));
      });
    });

  process.on('message', async (m: ToClients) => {
    if (m.cmd === 'connect') {
      const started = performance.now();
      let failed = 0;
      let error: string | null = null;
      // 50 handshakes at a time.
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(50, m.tokens.length) }, async () => {
          while (next < m.tokens.length) {
            const token = m.tokens[next++]!;
            try {
              clients.push(await open(m.url, token, m.maxPerSecond));
            } catch (err) {
              failed++;
              error ??= err instanceof Error ? err.message : String(err);
            }
          }
        }),
      );
      send({ type: 'connected', ok: clients.length, failed, error, limits, ms: performance.now() - started });
    } else if (m.cmd === 'resubscribe') {
      let failed = 0;
      let error: string | null = null;
      await Promise.all(
        clients
          .filter((c) => !c.closed)
          .map(async (c) => {
            const done = confirmed(c, 1, 30_000);
            subscribeEvents(c, m.maxPerSecond);
            try {
              await done;
            } catch (err) {
              failed++;
              error ??= err instanceof Error ? err.message : String(err);
            }
          }),
      );
      send({ type: 'resubscribed', ok: clients.filter((c) => !c.closed).length - failed, failed, error });
    } else if (m.cmd === 'start') {
      for (const c of clients) c.events = c.dropped = 0;
      rec = {
        from: m.from,
        to: Number.POSITIVE_INFINITY,
        stoppedAt: Number.POSITIVE_INFINITY,
        hist: new Array<number>(HIST_MS + 1).fill(0),
        max: 0,
        events: 0,
        messages: 0,
        eventsMessages: 0,
        countersMessages: 0,
        matched: 0,
        sampledMessages: 0,
        sampleRateMin: 1,
        dropped: 0,
        errors: 0,
        firstError: null,
        closed: 0,
        countersBySecond: new Map(),
        first: new Map(),
      };
      loop.reset();
      loop.enable();
    } else if (m.cmd === 'stop') {
      const r = rec!;
      r.to = m.to;
      r.stoppedAt = Date.now();
      await new Promise((done) => setTimeout(done, DRAIN_MS));
      loop.disable();
      rec = null;
      const counts = clients.filter((c) => !c.closed).map((c) => c.events);
      const inside = [...r.countersBySecond].filter(([at]) => at >= r.from && at + 1000 <= r.to).map(([, eps]) => eps);
      send({
        type: 'report',
        report: {
          open: counts.length,
          closed: r.closed,
          seconds: (r.to - r.from) / 1000,
          hist: r.hist,
          max: r.max,
          events: r.events,
          clientMin: counts.length ? Math.min(...counts) : 0,
          clientMax: counts.length ? Math.max(...counts) : 0,
          messages: r.messages,
          eventsMessages: r.eventsMessages,
          countersMessages: r.countersMessages,
          matched: r.matched,
          sampledMessages: r.sampledMessages,
          sampleRateMin: r.sampleRateMin,
          dropped: r.dropped,
          clientsWithDrops: clients.filter((c) => c.dropped > 0).length,
          errors: r.errors,
          firstError: r.firstError,
          countersEps: inside.length ? inside.reduce((a, b) => a + b, 0) / inside.length : Number.NaN,
          countersSeconds: inside.length,
          first: [...r.first].map(([seq, [receivedAt, arrived]]) => [seq, receivedAt, arrived]),
          loopDelayP99: loop.percentile(99) / 1e6,
          loopDelayMax: loop.max / 1e6,
        },
      });
    } else if (m.cmd === 'close') {
      for (const c of clients) c.ws.terminate();
      process.disconnect?.();
      process.exit(0);
    }
  });
}

// ---- Measuring a process from /proc -----------------------------------------------------------

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process or thread, seconds. */
function cpuSeconds(statPath: string): number {
  const s = readFileSync(statPath, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** Busy CPU seconds of the whole machine (all cores; /proc/stat less idle and iowait). */
function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const t = ticks.map(Number);
  return (t.slice(0, 8).reduce((a, b) => a + b, 0) - t[3]! - t[4]!) / CLK_TCK;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** A process's CPU (cores, and its main thread's) and peak RSS between start() and stop(). */
class Usage {
  private cpu = 0;
  private main = 0;
  private at = 0;
  private peak = 0;
  private timer: NodeJS.Timeout | null = null;
  constructor(private readonly pid: number) {}

  start(): void {
    this.cpu = cpuSeconds(`/proc/${this.pid}/stat`);
    this.main = cpuSeconds(`/proc/${this.pid}/task/${this.pid}/stat`);
    this.at = performance.now();
    this.peak = rssBytes(this.pid);
    this.timer = setInterval(() => (this.peak = Math.max(this.peak, rssBytes(this.pid))), 100);
  }

  stop(): { cores: number; mainCores: number; peakRss: number; rss: number } {
    clearInterval(this.timer!);
    const seconds = (performance.now() - this.at) / 1000;
    const rss = rssBytes(this.pid);
    return {
      cores: (cpuSeconds(`/proc/${this.pid}/stat`) - this.cpu) / seconds,
      mainCores: (cpuSeconds(`/proc/${this.pid}/task/${this.pid}/stat`) - this.main) / seconds,
      peakRss: Math.max(this.peak, rss),
      rss,
    };
  }
}

// ---- The load generator -----------------------------------------------------------------------

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

let nextSeq = 0;
function batchBody(seq: number): string {
  const events = [];
  for (let i = 0; i < BATCH; i++) {
    const n = seq * BATCH + i;
    events.push({
      eventType: 'track',
      eventName: NAMES[n % NAMES.length],
      userId: `user-${n % 5000}`,
      sessionId: `session-${n % 1000}`,
      properties: { seq, i, plan: n % 3 === 0 ? 'pro' : 'free', amount: n % 100 },
    });
  }
  return JSON.stringify({ events });
}

interface IngestRun {
  label: string;
  batches: number;
  ok: number;
  failed: number;
  firstFailure: string | null;
  seconds: number;
  eventsPerSec: number;
  p50: number;
  p99: number;
  maxLagMs: number;
  /** Epoch ms of the first send and the last ack. */
  from: number;
  to: number;
  /** Batch number → epoch ms when its response ended here. */
  acks: Map<number, number>;
}

/** BATCH events every BATCH / RATE seconds for `seconds`, with catch-up. */
async function ingest(label: string, port: number, secret: string, seconds: number): Promise<IngestRun> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const post = (body: string) =>
    new Promise<{ status: number; at: number; text: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/events/batch',
          method: 'POST',
          agent,
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, at: Date.now(), text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const batches = Math.max(1, Math.round((seconds * RATE) / BATCH));
  const interval = (BATCH * 1000) / RATE;
  const maxInFlight = CONNECTIONS * 8;
  const times: number[] = [];
  const acks = new Map<number, number>();
  let sent = 0;
  let done = 0;
  let ok = 0;
  let failed = 0;
  let firstFailure: string | null = null;
  let inFlight = 0;
  let maxLag = 0;
  const from = Date.now();
  const started = performance.now();
  let last = started;
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | null = null;
    const schedule = () => {
      if (timer || sent >= batches || inFlight >= maxInFlight) return; // an ack reschedules
      timer = setTimeout(pump, Math.max(0, started + sent * interval - performance.now()));
    };
    const pump = () => {
      timer = null;
      const now = performance.now();
      while (sent < batches && inFlight < maxInFlight && started + sent * interval <= now) {
        maxLag = Math.max(maxLag, now - (started + sent * interval));
        sent++;
        const seq = nextSeq++;
        const t0 = performance.now();
        inFlight++;
        post(batchBody(seq))
          .then(
            (r) => {
              if (r.status === 202) {
                ok++;
                times.push(performance.now() - t0);
                acks.set(seq, r.at);
              } else {
                failed++;
                firstFailure ??= `${r.status} ${r.text.slice(0, 200)}`;
              }
            },
            (err: unknown) => {
              failed++;
              firstFailure ??= err instanceof Error ? err.message : String(err);
            },
          )
          .finally(() => {
            inFlight--;
            done++;
            last = performance.now();
            if (done === batches) resolve();
            else schedule();
          });
      }
      schedule();
    };
    pump();
  });
  agent.destroy();
  // A run that kept pace lasts its nominal span (the last batch is due one interval before its end).
  const secs = Math.max((last - started) / 1000, (batches * interval) / 1000);
  times.sort((a, b) => a - b);
  return {
    label,
    batches,
    ok,
    failed,
    firstFailure,
    seconds: secs,
    eventsPerSec: (ok * BATCH) / secs,
    p50: times.length ? percentile(times, 0.5) : Number.NaN,
    p99: times.length ? percentile(times, 0.99) : Number.NaN,
    maxLagMs: maxLag,
    from,
    to: Date.now(),
    acks,
  };
}

function histPercentile(hist: number[], total: number, p: number): number {
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (let ms = 0; ms < hist.length; ms++) {
    seen += hist[ms]!;
    if (seen >= rank) return ms;
  }
  return hist.length - 1;
}

interface Measured {
  run: IngestRun;
  server: ReturnType<Usage['stop']>;
  clients: ReturnType<Usage['stop']> | null;
  loadgenCores: number;
  /** The machine's busy cores, and those of processes other than the three of the bench. */
  machineCores: number;
  otherCores: number;
}

async function measured(label: string, port: number, secret: string, serverPid: number, clientsPid: number | null): Promise<Measured> {
  const server = new Usage(serverPid);
  const clients = clientsPid === null ? null : new Usage(clientsPid);
  server.start();
  clients?.start();
  const cpu = process.cpuUsage();
  const machine = machineBusySeconds();
  const t0 = performance.now();
  const run = await ingest(label, port, secret, SECONDS);
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - t0) / 1000;
  const machineCores = (machineBusySeconds() - machine) / seconds;
  const loadgenCores = (used.user + used.system) / 1e6 / seconds;
  const s = server.stop();
  const c = clients?.stop() ?? null;
  return { run, server: s, clients: c, loadgenCores, machineCores, otherCores: Math.max(0, machineCores - s.cores - (c?.cores ?? 0) - loadgenCores) };
}

function waitFor<T extends FromClients['type']>(child: ChildProcess, type: T, timeoutMs: number): Promise<Extract<FromClients, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', on);
      reject(new Error(`the clients' process sent no "${type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (m: FromClients) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(m as Extract<FromClients, { type: T }>);
    };
    child.on('message', on);
  });
}

async function api(base: string, method: string, path: string, secret: string, body?: unknown): Promise<any> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '-');
const mib = (n: number) => (n / MiB).toFixed(0);

async function main(): Promise<void> {
  for (const m of MAX_PER_SECOND) if (!Number.isInteger(m) || m < 1 || m > 1000) throw new Error(`BENCH_MAX_PER_SECOND: ${m} is not a whole number from 1 to 1000`);
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-realtime-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  console.log(
    `bench/realtime: ${CLIENTS} clients, ${RATE} events/s in batches of ${BATCH} over ${CONNECTIONS} connections for ${SECONDS} s per run, ` +
      `maxPerSecond ${MAX_PER_SECOND.join(' then ')}, node ${process.version}, ${availableParallelism()} cores, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`,
  );

  const service = spawn(process.execPath, [join(fileURLToPath(new URL('.', import.meta.url)), '..', 'src', 'main.js')], {
    env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn', ROOT_API_KEY: ROOT_KEY, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let clientsProcess: ChildProcess | null = null;
  try {
    let up = false;
    for (let i = 0; i < 600 && !up; i++) {
      if (service.exitCode !== null) throw new Error(`the service exited with ${service.exitCode}`);
      up = await fetch(`${base}/ready`).then((r) => r.ok, () => false);
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    if (!up) throw new Error('the service did not get ready');
    const account = await api(base, 'POST', '/api/accounts', ROOT_KEY, { name: 'bench-realtime' });
    const write: string = account.clients.write.clientSecret;
    const read: string = account.clients.read.clientSecret;

    clientsProcess = fork(fileURLToPath(import.meta.url), ['clients'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const clients = clientsProcess;

    // Warm-up (not counted), then the baseline: nobody watches the account, nothing is published live.
    if (WARMUP_SECONDS > 0) {
      const w = await ingest('warm-up', port, write, WARMUP_SECONDS);
      console.log(`warm-up: ${w.ok * BATCH} events in ${w.seconds.toFixed(1)} s, HTTP p99 ${f1(w.p99)} ms${w.failed ? `, ${w.failed} failed (${w.firstFailure})` : ''}`);
    }
    const serverIdle = rssBytes(service.pid!);
    const baseline = await measured('no clients', port, write, service.pid!, null);

    // The clients: a token each, 50 handshakes at a time.
    const tokens: string[] = [];
    const started = performance.now();
    for (let i = 0; i < CLIENTS; i += 20) {
      const n = Math.min(20, CLIENTS - i);
      const got = await Promise.all(Array.from({ length: n }, () => api(base, 'POST', '/api/live/tokens', read, {})));
      for (const g of got) tokens.push(g.token as string);
    }
    const tokenMs = performance.now() - started;
    const rssBefore = rssBytes(service.pid!);
    const connecting = waitFor(clients, 'connected', 10 * 60_000);
    clients.send({ cmd: 'connect', url: `ws://127.0.0.1:${port}/ws/analytics`, tokens, maxPerSecond: MAX_PER_SECOND[0]! } satisfies ToClients);
    const connected = await connecting;
    if (connected.ok === 0) throw new Error(`no client connected: ${connected.error}`);
    await new Promise((r) => setTimeout(r, 1000));
    const rssConnected = rssBytes(service.pid!);
    const limits = connected.limits;
    console.log(
      `clients: ${connected.ok} connected and subscribed (${connected.failed} failed${connected.error ? `: ${connected.error}` : ''}) in ${(connected.ms / 1000).toFixed(1)} s ` +
        `(tokens ${(tokenMs / 1000).toFixed(1)} s); server RSS ${mib(rssBefore)} MiB before them, ${mib(rssConnected)} MiB with them connected and no events; ` +
        `server limits: ${limits ? `${limits.maxMessagesPerSecond} messages/s a socket, queue ${limits.queue}` : 'unknown'}`,
    );

    const runs: { maxPerSecond: number; m: Measured; r: ClientsReport }[] = [];
    for (const [k, maxPerSecond] of MAX_PER_SECOND.entries()) {
      if (k > 0) {
        const resubscribing = waitFor(clients, 'resubscribed', 60_000);
        clients.send({ cmd: 'resubscribe', maxPerSecond } satisfies ToClients);
        const re = await resubscribing;
        if (re.failed) console.log(`resubscribe: ${re.failed} failed (${re.error})`);
        await new Promise((r) => setTimeout(r, 1000));
      }
      clients.send({ cmd: 'start', from: Date.now() } satisfies ToClients);
      const m = await measured(`${connected.ok} clients, maxPerSecond ${maxPerSecond}`, port, write, service.pid!, clients.pid!);
      const reporting = waitFor(clients, 'report', 60_000);
      clients.send({ cmd: 'stop', to: m.run.to } satisfies ToClients);
      const { report } = await reporting;
      runs.push({ maxPerSecond, m, r: report });
    }

    // ---- Figures --------------------------------------------------------------------------------
    const all = [baseline, ...runs.map((x) => x.m)];
    console.log('\n| run | events/s acked | of offered | HTTP p50 ms | HTTP p99 ms | failed | generator max lag ms | server CPU (cores) | of which main thread | server peak RSS MiB | clients CPU | clients peak RSS MiB | generator CPU | other processes CPU |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const m of all) {
      console.log(
        `| ${m.run.label} | ${Math.round(m.run.eventsPerSec)} | ${((m.run.eventsPerSec / RATE) * 100).toFixed(0)} % | ${f1(m.run.p50)} | ${f1(m.run.p99)} | ${m.run.failed} | ${m.run.maxLagMs.toFixed(0)} | ` +
          `${f2(m.server.cores)} | ${f2(m.server.mainCores)} | ${mib(m.server.peakRss)} | ${m.clients ? f2(m.clients.cores) : '-'} | ${m.clients ? mib(m.clients.peakRss) : '-'} | ${f2(m.loadgenCores)} | ${f2(m.otherCores)} |`,
      );
      if (m.run.firstFailure) console.log(`  first failure: ${m.run.firstFailure}`);
    }
    console.log(
      `(CPU in cores and peak RSS over each run's span, ${SECONDS} s; server RSS ${mib(serverIdle)} MiB after the warm-up; other processes: the machine's busy cores from /proc/stat less the three of the bench)`,
    );
    if (all.some((m) => m.otherCores >= 0.2)) console.log('WARNING: other processes used the CPU during the runs: the figures are not this service\'s alone; run again on an idle machine');

    console.log('\n| maxPerSecond | ack → client p50 ms | p99 ms | max ms | events/client/s | share of acked | events per client (min–max) | messages/client/s | events msgs/s | counters msgs/s | sampled msgs | min sampleRate | dropped (clients) | closed | errors | clients loop delay p99 / max ms |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const { maxPerSecond, m, r } of runs) {
      const per = Math.max(1, r.open) * r.seconds;
      const acked = m.run.ok * BATCH;
      console.log(
        `| ${maxPerSecond} | ${r.events ? histPercentile(r.hist, r.events, 0.5) : '-'} | ${r.events ? histPercentile(r.hist, r.events, 0.99) : '-'} | ${r.events ? r.max : '-'} | ` +
          `${f1(r.events / per)} | ${((r.events / Math.max(1, r.open) / Math.max(1, acked)) * 100).toFixed(1)} % | ${r.clientMin}–${r.clientMax} | ` +
          `${f1(r.messages / per)} | ${f1(r.eventsMessages / per)} | ${f2(r.countersMessages / per)} | ${r.eventsMessages ? ((r.sampledMessages / r.eventsMessages) * 100).toFixed(0) : 0} % | ${f2(r.sampleRateMin)} | ` +
          `${r.dropped} (${r.clientsWithDrops}) | ${r.closed} | ${r.errors}${r.firstError ? ` (${r.firstError})` : ''} | ${f1(r.loopDelayP99)} / ${f1(r.loopDelayMax)} |`,
      );
    }
    console.log(`(latency: arrival in the clients' process − the event's receivedAt, whole ms, over ${runs.map((x) => x.r.events).join(' and ')} events received)`);

    for (const { maxPerSecond, m, r } of runs) {
      // The load generator's ack vs the first arrival at any client, per batch some client got.
      const ackToFirst: number[] = [];
      const serverToAck: number[] = [];
      for (const [seq, receivedAt, arrived] of r.first) {
        const ack = m.run.acks.get(seq);
        if (ack === undefined) continue;
        ackToFirst.push(arrived - ack);
        serverToAck.push(ack - receivedAt);
      }
      ackToFirst.sort((a, b) => a - b);
      serverToAck.sort((a, b) => a - b);
      if (ackToFirst.length === 0) continue;
      const q = (xs: number[]) => `p50 ${percentile(xs, 0.5)}, p99 ${percentile(xs, 0.99)}, max ${xs.at(-1)} ms`;
      console.log(
        `maxPerSecond ${maxPerSecond}: ${ackToFirst.length} of ${m.run.ok} batches reached some client; the generator's ack → first arrival: ${q(ackToFirst)} ` +
          `(negative: the WebSocket message came before the HTTP response); receivedAt → the generator's ack: ${q(serverToAck)}; ` +
          `counters said ${Math.round(r.countersEps)} events/s on average over the ${r.countersSeconds} whole seconds of the run (${Math.round(m.run.eventsPerSec)} acked a second)`,
      );
    }

    // ---- Verdict --------------------------------------------------------------------------------
    console.log('');
    for (const { maxPerSecond, m, r } of runs) {
      const p99 = r.events ? histPercentile(r.hist, r.events, 0.99) : Number.NaN;
      const ratio = m.run.eventsPerSec / baseline.run.eventsPerSec;
      const clientsKeptUp = r.loopDelayP99 < 20 && (m.clients?.cores ?? 0) < 0.85;
      const goals = [
        `p99 ${p99} ms (${p99 < 10 ? 'goal < 10 ms met' : p99 < 50 ? 'goal < 10 ms missed, spec < 50 ms met' : 'goal and spec < 50 ms missed'})`,
        `${r.dropped} dropped (${r.dropped === 0 ? 'met' : 'missed'}${clientsKeptUp ? ', the clients kept up' : `, though the clients' process lagged: loop delay p99 ${f1(r.loopDelayP99)} ms at ${f2(m.clients?.cores ?? 0)} cores`})`,
        `ingest ${Math.round(m.run.eventsPerSec)} events/s, ×${ratio.toFixed(3)} the run without clients (${ratio >= 0.9 ? 'within 10 %: met' : 'missed'}; HTTP p99 ${f1(m.run.p99)} against ${f1(baseline.run.p99)} ms)`,
      ];
      const why: string[] = [];
      const msgs = r.messages / Math.max(1, r.open) / r.seconds;
      if (limits && msgs >= 0.9 * limits.maxMessagesPerSecond)
        why.push(`the per-socket budget: ${f1(msgs)} messages/client/s against LIVE_MAX_MESSAGES_PER_SECOND=${limits.maxMessagesPerSecond}, so an update waits up to ${Math.round(1000 / limits.maxMessagesPerSecond)} ms for a token and coalesces`);
      if (m.server.mainCores >= 0.85) why.push(`the server's JavaScript thread (${f2(m.server.mainCores)} cores busy: fan-out, JSON and sockets)`);
      if (clientsKeptUp && r.loopDelayP99 >= 5 && p99 >= 10) why.push(`in part the bench's clients' process (its loop delay p99 ${f1(r.loopDelayP99)} ms counts in the latency)`);
      if (!clientsKeptUp) why.push(`the bench's clients' process lagging (loop delay p99 ${f1(r.loopDelayP99)} ms at ${f2(m.clients?.cores ?? 0)} cores, counted in the latency)`);
      const total = m.machineCores;
      if (m.otherCores >= 0.2) why.push(`other processes on the machine (${f2(m.otherCores)} cores: figures distorted)`);
      if (total >= 1.8) why.push(`the machine's 2 cores (${f2(total)} busy: server ${f2(m.server.cores)}, clients ${f2(m.clients?.cores ?? 0)}, generator ${f2(m.loadgenCores)}, others ${f2(m.otherCores)})`);
      const asked = Math.min(1, maxPerSecond / RATE);
      why.push(`delivery: each client asked for ${maxPerSecond} of ${RATE} events/s and got ${f1(r.events / Math.max(1, r.open) / r.seconds)} (the server samples above maxPerSecond, ${(asked * 100).toFixed(0)} % at most)`);
      console.log(`maxPerSecond ${maxPerSecond}: ${goals.join('; ')}. Limited by: ${why.join('; ')}.`);
    }
  } finally {
    if (clientsProcess && clientsProcess.exitCode === null) {
      const gone = new Promise((r) => clientsProcess!.once('exit', r));
      clientsProcess.send({ cmd: 'close' } satisfies ToClients);
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (clientsProcess.exitCode === null) clientsProcess.kill('SIGKILL');
    }
    if (service.exitCode === null) {
      service.removeAllListeners('exit');
      const done = new Promise((r) => service.once('exit', r));
      service.kill('SIGTERM');
      await done;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'clients') {
  await clientsMain();
} else {
  await main();
}
