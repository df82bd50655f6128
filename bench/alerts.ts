/**
 * bench/alerts: BENCH_ALERTS (default 1,000) enabled alerts over 16 custom metrics on
 * BENCH_EVENTS (default 10 million) synthetic events, judged minute by minute as the scheduler
 * does. Prints the p50 / p95 / p99 / max time of one evaluation, each tick's lag (its last
 * evaluation's end minus its start), the CPU it used, the peak RSS, and what limits it.
 * Goal (2 cores): p95 under 500 ms, every tick finished within 30 s.
 *
 *   npm run bench:alerts     (BENCH_EVENTS=10000000 BENCH_ALERTS=1000 BENCH_TICKS=6 BENCH_BASELINE=100)
 *   npx tsc -p tsconfig.json && node dist/bench/alerts.js        (the same, without emptying dist first)
 *
 * A smoke run in a few seconds: BENCH_EVENTS=200000 BENCH_ALERTS=100 BENCH_TICKS=3 BENCH_BASELINE=20
 * BENCH_DATA_DIR=/tmp/bench-alerts-smoke (each size needs its own BENCH_DATA_DIR).
 *
 * The data set is bench/metrics' (100k users, 50 event names, 30 properties of which p0..p9 are
 * low-cardinality strings, the metrics' dimensions here, and p10..p19 numbers, over the 30 days
 * before the load), since alerts judge custom metrics and those need numeric properties
 * (bench/insights' web events have none). It is kept in BENCH_DATA_DIR (default
 * /tmp/bench-alerts-data) and reused by later runs (a load of 10M events takes minutes); the
 * metrics, alerts, their history and emails of an earlier run are removed first.
 *
 * The service runs in this process on embedded defaults (chDB with CHDB_SESSIONS=3, so two read
 * sessions; the in-process job queue with JOBS_CONCURRENCY=2; NeDB documents; emails written as
 * .eml files); CHDB_SESSIONS, JOBS_CONCURRENCY and QUERY_TIMEOUT_MS are taken from the
 * environment when set, to compare. ALERTS_EVAL_DELAY is 0 and the service's own tick timer is
 * removed: the bench drives AlertScheduler.tick(now) itself, on a clock set inside the data (the
 * events are in the past): the first tick at a whole hour two hours before the last event, where
 * every alert is due (1m, 5m and 1h windows all close: the heaviest minute of an hour), then one
 * per minute (BENCH_TICKS in all; the 6th also closes the 5m windows). Each tick enqueues its
 * `alert.evaluate` jobs on the job queue, which runs them as in production; the next tick starts
 * once they and the notifications they queued are done (in production they have the rest of
 * the minute). An evaluation's time is AlertEvaluator.evaluate's, from the job's start to its
 * end (not its wait in the queue); its query time is AlertObserver.observe's (the metric's
 * definition read and its chDB query). Before the first tick one query per metric and dimension
 * value warms the engine and the code, as a service judging them every minute would be.
 *
 * The alerts: 50 % threshold conditions on 1m windows, 30 % on 5m, 10 % percent change on 5m,
 * 10 % anomaly on 1h (default settings: 4 weeks of the same hour-of-week, which the 30 days
 * hold); a fifth on one value of a dimension; a fifth with `for: 2`; thresholds set around each
 * metric's recent values so some fire (and notify by email, .eml files in DATA_DIR/outbox) and
 * most do not. Metrics answered by the per-minute rollup (counts, unique users or sessions, and
 * formulas of counts) and ones that read the events (sums, averages, p95, max, filters, one
 * dimension value, JSON properties) are reported apart.
 *
 * Alerts of one metric share the values of the windows they judge (AlertObserver keeps them
 * 30 s), so a tick queries each metric, dimension value and window once; the bench prints how
 * many values came from that cache. Baseline: BENCH_BASELINE of the same alerts (every n-th)
 * judged one at a time by calling AlertEvaluator.evaluate directly, an hour later on the same
 * clock, the cache emptied before each (an alert whose metric no other alert watches): the time
 * of one evaluation alone, against its time in the top-of-the-hour tick, where JOBS_CONCURRENCY run at
 * once, and what the whole tick would take one at a time (queueing against query time).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AlertEvaluator, AlertScheduler, AlertsRepository } from '../src/alerts/index.js';
import type { Observation } from '../src/alerts/alert.types.js';
import { AlertObserver } from '../src/alerts/alert-observer.js';
import { createApp } from '../src/app.factory.js';
import { type AppConfig, loadConfig } from '../src/config/config.schema.js';
import { EVENTS_STORE, type EventsStore } from '../src/infrastructure/clickhouse/events-store.port.js';
import { ParamBag } from '../src/infrastructure/clickhouse/query/query-kit.js';
import { MetricsService } from '../src/metrics/index.js';
import { createRootLogger } from '../src/observability/logger.js';
import { percentile, ROOT_KEY } from './embedded-service.js';
import { loadMetricsDataset } from './metrics-dataset.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const ALERTS = Number(process.env.BENCH_ALERTS ?? 1000);
const TICKS = Math.min(60, Number(process.env.BENCH_TICKS ?? 6));
const BASELINE = Math.min(ALERTS, Number(process.env.BENCH_BASELINE ?? 100));
const DATA_DIR = process.env.BENCH_DATA_DIR ?? '/tmp/bench-alerts-data';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** An evaluation job's tries (EVALUATE_ATTEMPTS in alert-evaluator.ts). */
const EVALUATE_ATTEMPTS = 3;

function benchConfig(): AppConfig {
  const given = Object.fromEntries(['CHDB_SESSIONS', 'JOBS_CONCURRENCY', 'QUERY_TIMEOUT_MS'].flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])));
  return loadConfig({ DATA_DIR, ROOT_API_KEY: ROOT_KEY, LOG_LEVEL: 'warn', ALERTS_EVAL_DELAY: '0', ALERTS_EVAL_INTERVAL: '3600', ...given });
}

async function boot(config: AppConfig) {
  const app = await createApp(config, createRootLogger(config.logLevel));
  await app.listen(0, '127.0.0.1');
  // The bench is the clock: the service's own tick (real time) would judge other windows.
  const registry = app.get(SchedulerRegistry);
  if (registry.doesExist('interval', 'alerts-tick')) registry.deleteInterval('alerts-tick');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const call = async (method: string, path: string, secret: string, body?: unknown): Promise<any> => {
    const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return { app, call };
}

/** The custom metrics, as POST /api/metrics takes them; `dims` are the values alerts pick a dimension value from. */
const METRICS: { body: Record<string, unknown>; dims?: string[] }[] = [
  { body: { name: 'Signups', type: 'counter', aggregation: 'count', eventName: 'event_0' } },
  { body: { name: 'Checkouts', type: 'counter', aggregation: 'count', eventName: 'event_1' } },
  { body: { name: 'Errors', type: 'counter', aggregation: 'count', eventName: 'event_2', dimensions: ['p0'] }, dims: ['v0', 'v1', 'v2'] },
  { body: { name: 'All events', type: 'counter', aggregation: 'count' } },
  { body: { name: 'Active users', type: 'gauge', aggregation: 'unique', field: 'users' } },
  { body: { name: 'Sessions', type: 'gauge', aggregation: 'unique', field: 'sessions' } },
  { body: { name: 'Buyers', type: 'gauge', aggregation: 'unique', eventName: 'event_3', field: 'users', dimensions: ['p5'] }, dims: ['v0', 'v3', 'v7'] },
  { body: { name: 'Revenue', type: 'counter', aggregation: 'sum', eventName: 'event_4', field: 'p12', dimensions: ['p1'] }, dims: ['v0', 'v1', 'v3'] },
  { body: { name: 'Order value', type: 'gauge', aggregation: 'avg', eventName: 'event_5', field: 'p15' } },
  { body: { name: 'Latency p95', type: 'gauge', aggregation: 'p95', eventName: 'event_6', field: 'p12', dimensions: ['p2'] }, dims: ['v0', 'v2', 'v4'] },
  { body: { name: 'Max queue depth', type: 'gauge', aggregation: 'max', eventName: 'event_7', field: 'p18' } },
  { body: { name: 'Conversion', type: 'gauge', aggregation: 'avg', formula: '(event_1 / event_0) * 100', unit: 'percentage' } },
  { body: { name: 'Error rate', type: 'gauge', aggregation: 'avg', formula: '(event_2 + event_8) / event_9 * 100', unit: 'percentage' } },
  { body: { name: 'Premium purchases', type: 'counter', aggregation: 'count', eventName: 'event_10', filters: [{ field: 'p3', op: 'eq', value: 'v1' }] } },
  { body: { name: 'Load time', type: 'gauge', aggregation: 'avg', field: 'p10', dimensions: ['p4'] }, dims: ['v0', 'v5'] },
  { body: { name: 'Search users', type: 'gauge', aggregation: 'unique', eventName: 'event_11', field: 'users' } },
];

/** Whether the per-minute rollup answers the metric (whole-minute windows, no filter, counts and unique users or sessions). */
function readsRollup(body: Record<string, unknown>, dimension: boolean): boolean {
  if (dimension || body.filters) return false;
  if (body.formula) return true; // its series are counts here
  return body.aggregation === 'count' || (body.aggregation === 'unique' && (body.field === 'users' || body.field === 'sessions'));
}

/** A small deterministic generator, so every run creates the same alerts. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const median = (xs: number[]) => (xs.length === 0 ? 0 : [...xs].sort((a, b) => a - b)[xs.length >> 1]!);
const ms = (x: number) => x.toFixed(0);

interface Attempt {
  alertId: string;
  windowEnd: number;
  start: number;
  end: number;
  ok: boolean;
  queryMs: number;
  error?: string;
}

/** What one tick (or the baseline) did, as the wrapped evaluator saw it. */
class Run {
  readonly enqueued = new Map<string, number>();
  readonly attempts: Attempt[] = [];
  readonly done = new Set<string>();
  readonly outcomes = new Map<string, number>();
  /** One explanation per kind of anomaly outcome (what "learning" said). */
  readonly examples = new Map<string, string>();
  deliveriesQueued = 0;
  deliveriesDone = 0;
  get succeeded(): Attempt[] {
    return this.attempts.filter((a) => a.ok);
  }
  count(key: string): void {
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
  }
}

async function main(): Promise<void> {
  const config = benchConfig();
  console.log(
    `bench/alerts: ${ALERTS.toLocaleString('en')} alerts, ${EVENTS.toLocaleString('en')} events in ${DATA_DIR}, ${TICKS} ticks, ` +
      `baseline ${BASELINE}; JOBS_CONCURRENCY=${config.jobsConcurrency}, CHDB_SESSIONS=${config.chdbSessions} (${config.chdbSessions - 1} for reads), ` +
      `${availableParallelism()} cores, node ${process.version}\n`,
  );
  const marker = join(DATA_DIR, 'bench-account.json');
  if (existsSync(marker)) {
    const kept = JSON.parse(readFileSync(marker, 'utf8')) as { events: number };
    if (kept.events !== EVENTS) throw new Error(`${DATA_DIR} holds a load of ${kept.events} events, not ${EVENTS}: remove it or set BENCH_DATA_DIR`);
    console.log(`reusing the load in ${DATA_DIR}`);
  } else {
    mkdirSync(DATA_DIR, { recursive: true });
    // A first start makes the schema and the account; the load goes around the service.
    const { app, call } = await boot(config);
    const created = await call('POST', '/api/accounts', ROOT_KEY, { name: 'bench' });
    await app.close();
    const loaded = await loadMetricsDataset(DATA_DIR, created.id, Date.now(), EVENTS);
    console.log(
      `load: ${loaded.rows.toLocaleString('en')} rows in ${loaded.seconds.toFixed(1)} s (the per-minute rollup's view included); ` +
        `events on disk ${(loaded.bytes / 2 ** 20).toFixed(0)} MiB; rollup ${loaded.rollupRows.toLocaleString('en')} rows`,
    );
    writeFileSync(marker, JSON.stringify({ id: created.id, admin: created.clients.admin.clientSecret, events: EVENTS }));
  }
  const account = JSON.parse(readFileSync(marker, 'utf8')) as { id: string; admin: string };
  // The metrics, alerts and emails of an earlier run go first.
  for (const c of ['metrics', 'alerts', 'alert_states', 'alert_history', 'alert_deliveries', 'alert_channels']) rmSync(join(DATA_DIR, 'documents', `${c}.db`), { force: true });
  rmSync(join(DATA_DIR, 'outbox'), { recursive: true, force: true });

  const booting = performance.now();
  const { app, call } = await boot(config);
  console.log(`service ready in ${((performance.now() - booting) / 1000).toFixed(1)} s`);
  let sampler: NodeJS.Timeout | undefined;
  try {
    const store = app.get<EventsStore>(EVENTS_STORE);
    const bag = new ParamBag();
    const [span] = await store.query<{ first: string; last: string; n: string }>(
      `SELECT toUnixTimestamp64Milli(min(timestamp)) AS first, toUnixTimestamp64Milli(max(timestamp)) AS last, count() AS n FROM events WHERE account_id = ${bag.bind(account.id, 'String')}`,
      bag.params,
    );
    const first = Number(span!.first);
    const last = Number(span!.last);
    // The bench's clock: whole hours inside the data, with room for the ticks and the baseline an hour later.
    const t1 = Math.floor(last / HOUR) * HOUR - 2 * HOUR;
    const baselineAt = t1 + HOUR;
    console.log(
      `events: ${Number(span!.n).toLocaleString('en')} from ${new Date(first).toISOString()} to ${new Date(last).toISOString()} (${((last - first) / DAY).toFixed(1)} days, ` +
        `${((Number(span!.n) / (last - first)) * MINUTE).toFixed(0)} a minute); ticks from ${new Date(t1).toISOString()}; ` +
        `anomaly baselines: ${t1 - 28 * DAY >= first ? '4 past weeks of the same hour are in the data' : t1 - 21 * DAY >= first ? '3 past weeks in the data' : 'fewer than 3 weeks of history: hour-of-day or learning'}\n`,
    );

    // Metrics, then thresholds around their recent values (the median of the last 10 minutes, 6 five-minute windows, 6 hours).
    const metricsService = app.get(MetricsService);
    const metrics: { id: string; name: string; body: Record<string, unknown>; dims?: string[]; typical: Map<string, number> }[] = [];
    for (const m of METRICS) {
      const created = await call('POST', '/api/metrics', account.admin, m.body);
      const typical = new Map<string, number>();
      const dimension = (m.body.dimensions as string[] | undefined)?.[0];
      for (const value of [undefined, ...(m.dims ?? [])]) {
        for (const [window, n] of [
          [MINUTE, 10],
          [5 * MINUTE, 6],
          [HOUR, 6],
        ] as const) {
          const windows = Array.from({ length: n }, (_, i) => ({ from: t1 - (n - i) * window, to: t1 - (n - i - 1) * window }));
          const where = value === undefined ? undefined : { dimension: dimension!, value };
          const values = await metricsService.windowValues(account.id, created.id, windows, where);
          typical.set(`${value ?? ''}:${window}`, median(values.filter((v): v is number => v !== null)));
        }
      }
      metrics.push({ id: created.id, name: m.body.name as string, body: m.body, dims: m.dims, typical });
    }

    // The alerts: blocks of 10 over one metric, each with every kind of condition.
    const rnd = random(42);
    const alerts: { id: string; metric: (typeof metrics)[number]; dimension?: string; condition: string; window: string; label: string }[] = [];
    const creating = performance.now();
    for (let i = 0; i < ALERTS; i++) {
      const metric = metrics[Math.floor(i / 10) % metrics.length]!;
      const kind = i % 10;
      const dimValue = metric.dims && rnd() < 0.6 ? metric.dims[Math.floor(rnd() * metric.dims.length)] : undefined;
      const window = kind === 9 ? '1h' : kind < 5 ? '1m' : '5m';
      const windowMs = window === '1h' ? HOUR : window === '5m' ? 5 * MINUTE : MINUTE;
      const typical = metric.typical.get(`${dimValue ?? ''}:${windowMs}`) ?? 0;
      const condition = kind === 9 ? 'anomaly' : kind === 8 ? (rnd() < 0.5 ? 'change_pct_up' : 'change_pct_down') : rnd() < 0.8 ? 'greater_than' : 'less_than';
      const factor = [0.5, 0.8, 1.2, 1.5, 2, 3][Math.floor(rnd() * 6)]!;
      const threshold = condition === 'anomaly' ? undefined : condition.startsWith('change') ? [20, 50, 100][Math.floor(rnd() * 3)] : Math.round(typical * (condition === 'less_than' ? 2 - factor : factor) * 100) / 100;
      const body = {
        name: `${metric.name} ${condition} ${i}`,
        metric: dimValue ? { id: metric.id, dimension: (metric.body.dimensions as string[])[0], value: dimValue } : metric.id,
        condition,
        ...(threshold !== undefined ? { threshold } : {}),
        window,
        for: rnd() < 0.8 ? 1 : 2,
        cooldown: 900,
        severity: rnd() < 0.2 ? 'critical' : 'warning',
        channels: [{ type: 'email', to: [`oncall-${i % 20}@example.com`] }],
      };
      const created = await call('POST', '/api/alerts', account.admin, body);
      const label = `${metric.name}${dimValue ? ' (one value)' : ''}, ${readsRollup(metric.body, !!dimValue) ? 'rollup' : 'events'}`;
      alerts.push({ id: created.id, metric, dimension: dimValue, condition, window, label });
    }
    // On the bench's clock: every alert first due at t1 (a whole hour: every window closes).
    const repository = app.get(AlertsRepository);
    for (const a of alerts) await repository.schedule(a.id, t1);
    console.log(`${alerts.length} alerts over ${metrics.length} metrics created through the API in ${((performance.now() - creating) / 1000).toFixed(1)} s\n`);
    const byId = new Map(alerts.map((a) => [a.id, a]));

    // Instruments: the evaluation (the job's work), its query, the jobs enqueued, the deliveries.
    const evaluator = app.get(AlertEvaluator);
    const observer = app.get(AlertObserver);
    const scheduler = app.get(AlertScheduler);
    let run = new Run();
    const queryMs = new Map<string, number>();
    const observe = observer.observe.bind(observer);
    observer.observe = async (alert, windows) => {
      const started = performance.now();
      const out: Observation[] = await observe(alert, windows);
      const id = (alert as { _id?: string })._id ?? '';
      queryMs.set(id, performance.now() - started);
      for (const o of out) {
        const mode = o.outcome === 'learning' ? ' learning' : /hour-of-week/.test(o.explanation) ? ' hour-of-week' : /time of day/.test(o.explanation) ? ' hour-of-day' : '';
        const key = byId.get(id)?.condition === 'anomaly' ? `anomaly ${o.outcome}${o.outcome === 'learning' ? '' : mode}` : o.outcome;
        run.count(key);
        if (key.startsWith('anomaly') && !run.examples.has(key)) run.examples.set(key, `${byId.get(id)!.label}: ${o.explanation.slice(0, 160)}`);
      }
      return out;
    };
    const evaluate = evaluator.evaluate.bind(evaluator);
    evaluator.evaluate = async (alertId, windowEnd, now) => {
      const r = run;
      const started = performance.now();
      let ok = false;
      let error: string | undefined;
      try {
        const judged = await evaluate(alertId, windowEnd, now);
        ok = true;
        return judged;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        throw err;
      } finally {
        const key = `${alertId}:${windowEnd}`;
        r.attempts.push({ alertId, windowEnd, start: started, end: performance.now(), ok, queryMs: queryMs.get(alertId) ?? 0, error });
        if (ok || r.attempts.filter((a) => a.alertId === alertId && a.windowEnd === windowEnd).length >= EVALUATE_ATTEMPTS) r.done.add(key);
      }
    };
    const enqueueEvaluation = evaluator.enqueueEvaluation.bind(evaluator);
    evaluator.enqueueEvaluation = (alertId, windowEnd) => {
      run.enqueued.set(`${alertId}:${windowEnd}`, performance.now());
      return enqueueEvaluation(alertId, windowEnd);
    };
    const internals = evaluator as unknown as { enqueueDelivery: (id: string) => Promise<string> };
    const enqueueDelivery = internals.enqueueDelivery.bind(evaluator);
    internals.enqueueDelivery = (id) => {
      run.deliveriesQueued++;
      return enqueueDelivery(id);
    };
    const deliver = evaluator.deliver.bind(evaluator);
    evaluator.deliver = async (id, attempt) => {
      const r = run;
      try {
        return await deliver(id, attempt);
      } finally {
        r.deliveriesDone++;
      }
    };

    const waitFor = async (what: string, done: () => boolean, limitMs: number) => {
      const until = Date.now() + limitMs;
      while (!done()) {
        if (Date.now() > until) throw new Error(`${what}: not done within ${limitMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };

    // A running service has judged these metrics a minute ago: one query per metric and dimension
    // value, on the hour before the first tick, warms the engine and the code (not counted).
    const warming = performance.now();
    const warmed = new Set<string>();
    for (const a of alerts) {
      const key = `${a.metric.id}:${a.dimension ?? ''}:${a.condition === 'anomaly'}`;
      if (warmed.has(key)) continue;
      warmed.add(key);
      const alert = (await repository.findById(a.id))!;
      await observe(alert, [{ from: t1 - 2 * HOUR, to: t1 - HOUR }]);
    }
    console.log(`warm-up: ${warmed.size} queries in ${((performance.now() - warming) / 1000).toFixed(1)} s\n`);

    let peakRss = process.memoryUsage().rss;
    const rssBefore = peakRss;
    sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 10);

    console.log('| tick (bench clock) | evaluations | enqueue (tick()) | first start | lag | p50 ms | p95 ms | max ms | query share | CPU (cores) | event loop busy | notifications | failed |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const ticks: { at: number; run: Run; lagS: number; cpu: number; loop: number }[] = [];
    for (let k = 0; k < TICKS; k++) {
      const at = t1 + k * MINUTE;
      run = new Run();
      const cpu = process.cpuUsage();
      const elu = performance.eventLoopUtilization();
      const started = performance.now();
      const enqueued = await scheduler.tick(at);
      const tickMs = performance.now() - started;
      await waitFor(`tick ${k + 1}'s evaluations`, () => run.done.size >= enqueued, 30 * MINUTE);
      const lastEnd = Math.max(started, ...run.attempts.map((a) => a.end));
      const used = process.cpuUsage(cpu);
      const cores = (used.user + used.system) / 1000 / (lastEnd - started);
      const loop = performance.eventLoopUtilization(elu).utilization;
      // Notifications go out before the next tick (in production they have the rest of the minute).
      await waitFor(`tick ${k + 1}'s notifications`, () => run.deliveriesDone >= run.deliveriesQueued, 5 * MINUTE);
      const times = run.succeeded.map((a) => a.end - a.start).sort((a, b) => a - b);
      const query = run.succeeded.reduce((s, a) => s + a.queryMs, 0) / Math.max(1, times.reduce((s, t) => s + t, 0));
      const firstStart = Math.min(...run.attempts.map((a) => a.start));
      const failed = [...run.enqueued.keys()].filter((key) => !run.succeeded.some((a) => `${a.alertId}:${a.windowEnd}` === key)).length;
      const lagS = (lastEnd - started) / 1000;
      ticks.push({ at, run, lagS, cpu: cores, loop });
      console.log(
        `| ${new Date(at).toISOString().slice(11, 16)} | ${enqueued} | ${ms(tickMs)} ms | ${ms(firstStart - started)} ms | ${lagS.toFixed(1)} s | ` +
          `${times.length ? ms(percentile(times, 0.5)) : '-'} | ${times.length ? ms(percentile(times, 0.95)) : '-'} | ${times.length ? ms(times.at(-1)!) : '-'} | ` +
          `${(query * 100).toFixed(0)} % | ${cores.toFixed(2)} | ${(loop * 100).toFixed(0)} % | ${run.deliveriesQueued} | ${failed} |`,
      );
      for (const a of run.attempts.filter((x) => !x.ok).slice(0, 3)) console.log(`  failed try: ${byId.get(a.alertId)?.label}: ${a.error}`);
    }

    // Every evaluation of every tick.
    const all = ticks.flatMap((t) => t.run.succeeded);
    const times = all.map((a) => a.end - a.start).sort((a, b) => a - b);
    const queries = all.map((a) => a.queryMs).sort((a, b) => a - b);
    console.log(`\nevaluations: ${times.length} in ${ticks.length} ticks (${ticks.map((t) => t.run.enqueued.size).join(', ')})`);
    console.log(`evaluation ms: p50 ${ms(percentile(times, 0.5))}, p95 ${ms(percentile(times, 0.95))}, p99 ${ms(percentile(times, 0.99))}, max ${ms(times.at(-1)!)}`);
    console.log(`  of which AlertObserver.observe (the metric's definition and query): p50 ${ms(percentile(queries, 0.5))}, p95 ${ms(percentile(queries, 0.95))}, max ${ms(queries.at(-1)!)}`);
    console.log(`tick lag (s): ${ticks.map((t) => t.lagS.toFixed(1)).join(', ')}`);
    console.log(
      `window values: ${observer.stats.cached} answered from the values of alerts on the same metric judged in the last 30 s, ` +
        `${observer.stats.queried} queried in ${observer.stats.queries} queries (warm-up included)`,
    );
    const outcomes = new Map<string, number>();
    for (const t of ticks) for (const [k, v] of t.run.outcomes) outcomes.set(k, (outcomes.get(k) ?? 0) + v);
    console.log(`windows judged: ${[...outcomes].sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
    const examples = new Map<string, string>();
    for (const t of ticks) for (const [k, v] of t.run.examples) if (!examples.has(k)) examples.set(k, v);
    for (const [k, v] of [...examples].sort()) console.log(`  ${k}, e.g. ${v}`);
    const states = await repository.statesOf(alerts.map((a) => a.id));
    const byState = new Map<string, number>();
    for (const s of states) byState.set(s.state, (byState.get(s.state) ?? 0) + 1);
    console.log(`states after the ticks: ${[...byState].map(([k, v]) => `${k} ${v}`).join(', ')}`);

    // Per kind of metric (and dimension value): where the time goes.
    console.log('\n| metric | reads | evaluations | p50 ms | p95 ms | max ms |');
    console.log('|---|---|---:|---:|---:|---:|');
    const groups = new Map<string, number[]>();
    for (const a of all) {
      const label = byId.get(a.alertId)!.label;
      groups.set(label, [...(groups.get(label) ?? []), a.end - a.start]);
    }
    for (const xs of groups.values()) xs.sort((a, b) => a - b);
    for (const [label, xs] of [...groups].sort((a, b) => percentile(b[1], 0.95) - percentile(a[1], 0.95))) {
      const [name, reads] = label.split(/, (?=[^,]*$)/);
      console.log(`| ${name} | ${reads} | ${xs.length} | ${ms(percentile(xs, 0.5))} | ${ms(percentile(xs, 0.95))} | ${ms(xs.at(-1)!)} |`);
    }

    // Baseline: the same kind of evaluations one at a time (no queue, nothing else running).
    let baseline: { times: number[]; queries: number[]; same: number[]; serialS: number; gain: number } | undefined;
    if (BASELINE > 0) {
      const step = Math.max(1, Math.floor(alerts.length / BASELINE));
      const sample = alerts.filter((_, i) => i % step === 0).slice(0, BASELINE);
      run = new Run();
      const started = performance.now();
      // Each alone, and sharing nothing: no window value cached by an alert of the same metric.
      for (const a of sample) {
        observer.forgetValues();
        await evaluator.evaluate(a.id, baselineAt);
      }
      const serialS = (performance.now() - started) / 1000;
      await waitFor('the baseline notifications', () => run.deliveriesDone >= run.deliveriesQueued, 5 * MINUTE);
      const ids = new Set(sample.map((a) => a.id));
      baseline = {
        times: run.succeeded.map((a) => a.end - a.start).sort((a, b) => a - b),
        queries: run.succeeded.map((a) => a.queryMs).sort((a, b) => a - b),
        same: ticks[0]!.run.succeeded.filter((a) => ids.has(a.alertId)).map((a) => a.end - a.start).sort((a, b) => a - b),
        serialS,
        gain: (serialS * ticks[0]!.run.enqueued.size) / sample.length / ticks[0]!.lagS,
      };
      console.log(
        `\nbaseline, ${sample.length} of the alerts one at a time (${new Date(baselineAt).toISOString().slice(11, 16)}): evaluation ms p50 ${ms(percentile(baseline.times, 0.5))}, ` +
          `p95 ${ms(percentile(baseline.times, 0.95))}, max ${ms(baseline.times.at(-1)!)} (query p50 ${ms(percentile(baseline.queries, 0.5))}); ` +
          `the same alerts in the first tick, ${config.jobsConcurrency} at once: p50 ${ms(percentile(baseline.same, 0.5))}, p95 ${ms(percentile(baseline.same, 0.95))}; ` +
          `${baseline.serialS.toFixed(1)} s in all, so ${((baseline.serialS * ticks[0]!.run.enqueued.size) / sample.length).toFixed(1)} s for the first tick's ` +
          `${ticks[0]!.run.enqueued.size} one at a time, against its lag of ${ticks[0]!.lagS.toFixed(1)} s (running ${config.jobsConcurrency} at once gained ×${baseline.gain.toFixed(2)})`,
      );
    }
    clearInterval(sampler);
    sampler = undefined;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    console.log(`\npeak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB during the ticks (${(rssBefore / 2 ** 20).toFixed(0)} MiB before them; chDB runs in this process)`);

    // What limits it, from the figures.
    const p95 = percentile(times, 0.95);
    const worst = ticks.reduce((a, b) => (b.lagS > a.lagS ? b : a));
    const querySum = all.reduce((s, a) => s + a.queryMs, 0);
    const evalSum = all.reduce((s, a) => s + (a.end - a.start), 0);
    const cores = availableParallelism();
    const cpuBound = worst.cpu >= 0.8 * cores;
    const loopBound = !cpuBound && worst.loop >= 0.8;
    const noGain = !cpuBound && !loopBound && baseline !== undefined && baseline.gain < 1.3;
    const goal = `p95 ${ms(p95)} ms (goal 500: ${p95 < 500 ? 'met' : 'missed'}), slowest tick ${worst.lagS.toFixed(1)} s (goal 30: ${ticks.every((t) => t.lagS <= 30) ? 'met' : 'missed'})`;
    const why = cpuBound
      ? `the CPU: the slowest tick kept ${worst.cpu.toFixed(1)} of ${cores} cores busy, ${((querySum / evalSum) * 100).toFixed(0)} % of an evaluation's time is AlertObserver.observe (the metric's definition and its chDB query, in this process), so more JOBS_CONCURRENCY or CHDB_SESSIONS would only make each evaluation slower`
      : loopBound
        ? `the service's one JavaScript thread: its event loop was busy ${(worst.loop * 100).toFixed(0)} % of the slowest tick (the documents store, the lock, parsing and judging) while the cores were ${((worst.cpu / cores) * 100).toFixed(0)} % used; ` +
          `${((querySum / evalSum) * 100).toFixed(0)} % of an evaluation's time is AlertObserver.observe (the metric's definition and its chDB query)`
        : noGain
          ? `contention in the query path rather than the queue: ${config.jobsConcurrency} evaluations at once (JOBS_CONCURRENCY) over ${config.chdbSessions - 1} chDB read sessions finished the first tick only ×${baseline!.gain.toFixed(2)} faster than one at a time ` +
            `(an evaluation's p50 ${ms(percentile(baseline!.times, 0.5))} ms alone, ${ms(percentile(baseline!.same, 0.5))} ms beside another) while ${worst.cpu.toFixed(1)} of ${cores} cores and ${(worst.loop * 100).toFixed(0)} % of the event loop were busy; ` +
            `${((querySum / evalSum) * 100).toFixed(0)} % of an evaluation's time is AlertObserver.observe (the metric's definition and its chDB query), so more JOBS_CONCURRENCY or CHDB_SESSIONS would not shorten a tick`
          : `the evaluation queue, not the CPU: JOBS_CONCURRENCY=${config.jobsConcurrency} evaluations at once over ${config.chdbSessions - 1} chDB read sessions (CHDB_SESSIONS=${config.chdbSessions}) left ${(cores - worst.cpu).toFixed(1)} of ${cores} cores idle in the slowest tick; ` +
        `${((querySum / evalSum) * 100).toFixed(0)} % of an evaluation's time is AlertObserver.observe (the metric's definition and its chDB query), the rest the documents store and the lock`;
    console.log(`\n${goal}; limited by ${why}.`);
  } finally {
    if (sampler) clearInterval(sampler);
    await app.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
