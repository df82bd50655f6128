/**
 * bench/metrics: /api/metrics/:id/data over BENCH_EVENTS (default 10 million) synthetic events on
 * embedded defaults. 100k users, 50 event names, 30 properties, spread over the last 30 days.
 * Prints the load time, the store's size on disk, the first call of each query (which also computes
 * the metric's hourly states it lacks) and p50 / p99 of repeated /data queries for:
 * a counter by day over 30 days, unique users by hour over 7 days (approximate and exact), a p95
 * grouped by a dimension (top 10), and a two-series formula.
 *
 * With BENCH_SCALES (ascending totals, e.g. 1000000,10000000,100000000) the same store grows
 * step by step (the same 30 days, denser) and the queries are timed at each size; a last table
 * gives each query's p50 growth against the data's, and the load rate of each step.
 *
 * BENCH_DATA_DIR keeps the store there and, when it already holds this bench's load (one size),
 * reuses it: the queries then run on the load as it was (its 30 days end at the load's time).
 *
 *   npm run bench:metrics        (BENCH_EVENTS=10000000 BENCH_RUNS=30 BENCH_SCALES= BENCH_DATA_DIR=)
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedService, percentile, ROOT_KEY, timeCalls } from './embedded-service.js';
import { loadMetricsDataset } from './metrics-dataset.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const SCALES = (process.env.BENCH_SCALES ? process.env.BENCH_SCALES.split(',').map(Number) : [EVENTS]).sort((a, b) => a - b);
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const PORT = 3992;
const DAY = 86_400_000;

interface Setup {
  accountId: string;
  now: number;
  events: number;
  read: string;
  metrics: Record<'counter' | 'unique' | 'uniqueExact' | 'p95' | 'formula', { id: string }>;
}

/** The account and the five metrics, made on a service started on `dataDir`. */
async function setUp(service: EmbeddedService): Promise<Omit<Setup, 'now' | 'events'>> {
  const api = service.api.bind(service);
  await service.start();
  const account = await api('POST', '/api/accounts', ROOT_KEY, { name: 'bench' });
  const admin = account.clients.admin.clientSecret as string;
  const metrics = {
    counter: await api('POST', '/api/metrics', admin, { name: 'event_7 count', type: 'counter', aggregation: 'count', eventName: 'event_7' }),
    unique: await api('POST', '/api/metrics', admin, { name: 'active users', type: 'gauge', aggregation: 'unique', field: 'users', precision: 'approximate' }),
    uniqueExact: await api('POST', '/api/metrics', admin, { name: 'active users, exact', type: 'gauge', aggregation: 'unique', field: 'users', precision: 'exact' }),
    p95: await api('POST', '/api/metrics', admin, {
      name: 'p95 of p12',
      type: 'gauge',
      aggregation: 'p95',
      eventName: 'event_3',
      field: 'p12',
      dimensions: ['p2'],
    }),
    formula: await api('POST', '/api/metrics', admin, {
      name: 'conversion',
      type: 'gauge',
      aggregation: 'avg',
      formula: '(event_1 / event_0) * 100',
    }),
  };
  await service.stop();
  return { accountId: account.id as string, read: account.clients.read.clientSecret as string, metrics };
}

async function main(): Promise<void> {
  const kept = process.env.BENCH_DATA_DIR;
  const dataDir = kept ?? mkdtempSync(join(tmpdir(), 'bench-metrics-'));
  const marker = join(dataDir, 'bench-metrics.json');
  const reuse = kept !== undefined && existsSync(marker);
  console.log(`bench/metrics: ${SCALES.map((n) => n.toLocaleString('en')).join(' -> ')} events, ${RUNS} runs per query, node ${process.version}\n`);
  const service = new EmbeddedService(dataDir, PORT);
  const api = service.api.bind(service);
  let setup: Setup;
  if (reuse) {
    setup = JSON.parse(readFileSync(marker, 'utf8'));
    if (SCALES.length > 1 || setup.events !== SCALES[0]) throw new Error(`${dataDir} holds a load of ${setup.events} events: remove it, or run one size of that many`);
    console.log(`reusing the load in ${dataDir} (made ${new Date(setup.now).toISOString()})\n`);
  } else {
    mkdirSync(dataDir, { recursive: true });
    setup = { ...(await setUp(service)), now: Date.now(), events: SCALES[SCALES.length - 1]! };
  }
  const { metrics, read, now } = setup;

  const to = now + 1000;
  const queries: [string, string][] = [
    ['counter by day, 30 days', `/api/metrics/${metrics.counter.id}/data?from=${to - 30 * DAY}&to=${to}&interval=day`],
    ['unique users by hour, 7 days (approximate)', `/api/metrics/${metrics.unique.id}/data?from=${to - 7 * DAY}&to=${to}&interval=hour`],
    ['unique users by hour, 7 days (exact)', `/api/metrics/${metrics.uniqueExact.id}/data?from=${to - 7 * DAY}&to=${to}&interval=hour`],
    ['p95 by dimension, top 10, 30 days', `/api/metrics/${metrics.p95.id}/data?from=${to - 30 * DAY}&to=${to}&interval=day&groupBy=p2&limit=10`],
    ['two-series formula by day, 30 days', `/api/metrics/${metrics.formula.id}/data?from=${to - 30 * DAY}&to=${to}&interval=day`],
  ];
  const steps: { events: number; loadSeconds: number; added: number; p50: number[] }[] = [];
  let loadedSoFar = 0;
  for (const scale of SCALES) {
    const added = scale - loadedSoFar;
    loadedSoFar = scale;
    let loadSeconds = 0;
    if (!reuse) {
      const loaded = await loadMetricsDataset(dataDir, setup.accountId, now, added, scale - added);
      loadSeconds = loaded.seconds;
      console.log(
        `load: +${added.toLocaleString('en')} to ${loaded.rows.toLocaleString('en')} rows in ${loaded.seconds.toFixed(1)} s ` +
          `(${Math.round(added / loaded.seconds).toLocaleString('en')} rows/s, every view included); events on disk ${(loaded.bytes / 1024 / 1024).toFixed(0)} MiB; ` +
          `rollup ${loaded.rollupRows.toLocaleString('en')} rows, ${(loaded.rollupBytes / 1024 / 1024).toFixed(0)} MiB\n`,
      );
      if (kept && scale === SCALES[SCALES.length - 1]) writeFileSync(marker, JSON.stringify(setup));
    }
    await service.start();
    // `first`: the first call, which also computes the metric's hourly states it lacks (not timed in p50/p99).
    console.log('| query | first ms | p50 ms | p99 ms | max ms | points |');
    console.log('|---|---:|---:|---:|---:|---:|');
    const p50: number[] = [];
    for (const [label, path] of queries) {
      const { times, last, first } = await timeCalls(RUNS, () => api('GET', path, read));
      const points = (last as { series: { points: unknown[] }[] }).series.reduce((n, s) => n + s.points.length, 0);
      p50.push(percentile(times, 0.5));
      console.log(`| ${label} | ${first.toFixed(0)} | ${percentile(times, 0.5).toFixed(0)} | ${percentile(times, 0.99).toFixed(0)} | ${times.at(-1)!.toFixed(0)} | ${points} |`);
    }
    console.log('');
    await service.stop();
    steps.push({ events: scale, loadSeconds, added, p50 });
  }
  if (steps.length > 1) {
    // Growth against the first size: a query growing faster than the data it reads is a defect.
    const first = steps[0]!;
    const sizes = steps.map((s) => `${(s.events / 1e6).toLocaleString('en')}M`);
    console.log(`growth of p50 from ${sizes[0]} events (the data grows ${steps.map((s) => `${(s.events / first.events).toFixed(0)}×`).join(', ')})`);
    console.log(`| query | ${sizes.map((n) => `p50 at ${n}`).join(' | ')} | ${sizes.slice(1).map((n) => `× at ${n}`).join(' | ')} |`);
    console.log(`|---|${sizes.map(() => '---:').join('|')}|${sizes.slice(1).map(() => '---:').join('|')}|`);
    queries.forEach(([label], q) => {
      const cells = steps.map((s) => s.p50[q]!.toFixed(0));
      const growth = steps.slice(1).map((s) => (s.p50[q]! / first.p50[q]!).toFixed(1));
      console.log(`| ${label} | ${cells.join(' | ')} | ${growth.join(' | ')} |`);
    });
    console.log(`load rate per step (rows/s): ${steps.map((s) => Math.round(s.added / s.loadSeconds).toLocaleString('en')).join(', ')}`);
  }
  if (!kept) rmSync(dataDir, { recursive: true, force: true });
}

await main();
