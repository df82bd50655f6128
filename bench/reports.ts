/**
 * bench/reports: the time and the extra memory (RSS) to generate each report template in each
 * format, on bench/insights' 10 million web events (30 days, 100k devices, 2.4 million sessions).
 *
 * Uses the load kept in BENCH_DATA_DIR (default /tmp/bench-insights-data); when there is none,
 * runs bench/insights once to make it (BENCH_ONLY matching no endpoint). Then boots the service
 * in this process on that data and, per template and format, records a run and runs the real
 * generation (the template's queries through the metrics and insights services, the renderer
 * streaming to REPORTS_DIR), sampling RSS every 10 ms. The event export writes 100,000 rows.
 *
 *   npm run build && node --expose-gc dist/bench/reports.js
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/config.schema.js';
import { createRootLogger } from '../src/observability/logger.js';
import { ReportRunner } from '../src/reports/report-runner.js';
import { ReportsRepository } from '../src/reports/reports.repository.js';
import { REPORT_FORMATS } from '../src/reports/report.types.js';
import { ROOT_KEY } from './embedded-service.js';

const DATA_DIR = process.env.BENCH_DATA_DIR ?? '/tmp/bench-insights-data';
/** `BENCH_ONLY=<regex>`: only the "template format" pairs it matches. */
const ONLY = new RegExp(process.env.BENCH_ONLY ?? '');
const here = fileURLToPath(new URL('.', import.meta.url));

const TEMPLATES: [string, Record<string, unknown>][] = [
  ['campaign_performance', { campaignId: 'Chrome', campaignField: 'browser', stages: ['screen_view', 'add_to_cart', 'checkout', 'purchase'], dateRange: 'last_30_days' }],
  ['event_summary', { dateRange: 'last_30_days' }],
  ['metrics', { dateRange: 'last_30_days' }],
  ['web_overview', { dateRange: 'last_30_days' }],
  ['funnel', { steps: ['screen_view', 'add_to_cart', 'checkout', 'purchase'], dateRange: 'last_30_days' }],
  ['retention', { period: 'week', dateRange: 'last_30_days' }],
  ['event_export', { dateRange: 'last_30_days', maxRows: 100_000 }],
];

async function main(): Promise<void> {
  const marker = join(DATA_DIR, 'bench-account.json');
  if (!existsSync(marker)) {
    console.log(`no load in ${DATA_DIR}: running bench/insights once to make it (about 8 minutes)\n`);
    const made = spawnSync(process.execPath, [join(here, 'insights.js')], { env: { ...process.env, BENCH_DATA_DIR: DATA_DIR, BENCH_ONLY: '^none$' }, stdio: 'inherit' });
    if (made.status !== 0) throw new Error('bench/insights failed');
  }
  const account = JSON.parse(readFileSync(marker, 'utf8')) as { id: string; read: string };
  // The reports of an earlier run of this bench go first (an unfinished one would be taken up at boot).
  for (const collection of ['reports', 'report_runs', 'report_deliveries']) rmSync(join(DATA_DIR, 'documents', `${collection}.db`), { force: true });
  rmSync(join(DATA_DIR, 'reports'), { recursive: true, force: true });
  const config = loadConfig({ DATA_DIR, ROOT_API_KEY: ROOT_KEY, LOG_LEVEL: 'warn', QUERY_TIMEOUT_MS: '120000' });
  const app = await createApp(config, createRootLogger(config.logLevel));
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const call = async (method: string, path: string, secret: string, body?: unknown): Promise<any> => {
    const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  try {
    const admin = (await call('POST', `/api/accounts/${account.id}/clients`, ROOT_KEY, { type: 'admin' })).clientSecret as string;
    const metric = await call('POST', '/api/metrics', admin, {
      name: 'Purchases per 100 views',
      type: 'gauge',
      aggregation: 'avg',
      formula: '(purchase / screen_view) * 100',
      unit: 'percentage',
    });
    const users = await call('POST', '/api/metrics', admin, { name: 'Unique users', type: 'counter', aggregation: 'unique', field: 'users' });
    const repository = app.get(ReportsRepository);
    const runner = app.get(ReportRunner);
    console.log(`bench/reports: ${DATA_DIR}, node ${process.version}\n`);
    console.log('| template | format | time | extra RSS (peak) | file |');
    console.log('|---|---|---:|---:|---:|');
    for (const [template, parameters] of TEMPLATES) {
      for (const format of REPORT_FORMATS) {
        if (!ONLY.test(`${template} ${format}`)) continue;
        const params = template === 'metrics' ? { ...parameters, metricIds: [metric.id, users.id] } : parameters;
        // Schedule-only (a yearly time), so no run starts by itself: the bench runs it.
        const created = await call('POST', '/api/reports', admin, { name: `${template} ${format}`, template, parameters: params, format, schedule: { cron: '0 0 1 1 *', timezone: 'UTC' } });
        const runId = `${created.report.id}-bench`;
        await repository.insertRun({
          _id: runId,
          accountId: account.id,
          reportId: created.report.id,
          trigger: 'manual',
          asOf: Date.now(),
          status: 'queued',
          format,
          createdAt: Date.now(),
          attempts: 0,
          recipients: [],
        });
        (globalThis as { gc?: () => void }).gc?.();
        const base = process.memoryUsage().rss;
        let peak = base;
        const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
        const started = performance.now();
        await runner.generate(runId, 1);
        const ms = performance.now() - started;
        clearInterval(sampler);
        peak = Math.max(peak, process.memoryUsage().rss);
        const run = await repository.runById(runId);
        if (run?.status !== 'succeeded') throw new Error(`${template} ${format}: ${run?.status} ${run?.error}`);
        console.log(`| ${template} | ${format} | ${(ms / 1000).toFixed(2)} s | ${((peak - base) / 2 ** 20).toFixed(0)} MiB | ${((run.bytes ?? 0) / 1024).toFixed(0)} KiB |`);
      }
    }
  } finally {
    await app.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
