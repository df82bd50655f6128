/**
 * bench/insights: the Event Lens / OpenPanel insights endpoints over BENCH_EVENTS (default 10
 * million) synthetic web events on embedded defaults: 100k devices (30 % identified), about 2.5
 * million sessions of a few page views over the last 30 days, 50 pages, referrers, UTM, devices,
 * browsers and places. Prints the load time, the stores' sizes, and p50 / p99 per endpoint for a
 * 30-day range, a 4-step funnel and 30-day retention.
 *
 *   npm run bench:insights        (BENCH_EVENTS=10000000 BENCH_RUNS=20)
 *
 * BENCH_DATA_DIR keeps the loaded data there and, when it already holds a load, reuses it (to
 * compare query changes without loading again); BENCH_ONLY (a regular expression) runs just the
 * endpoints whose label matches.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ACTIVITY_TABLE,
  EVENTS_TABLE,
  PAGE_ROLLUP_TABLE,
  SESSION_LATEST_TABLE,
  SESSION_ROLLUP_TABLE,
  SESSIONS_TABLE,
  STEP_EVENTS_TABLE,
  STEP_FIRSTS_TABLE,
  VISITOR_BITMAPS_TABLE,
  VISITOR_IDS_TABLE,
} from '../src/infrastructure/clickhouse/schema/tables.js';
import { rebuildStatements } from '../src/sessions/session-summaries.js';
import { EmbeddedService, percentile, ROOT_KEY, timeCalls } from './embedded-service.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const PORT = 3993;
const DAY = 86_400_000;

/** ClickHouse array literal of strings (fixed bench vocabulary, no user input). */
const list = (xs: string[]) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;
const pick = (xs: string[], seed: string) => `${list(xs)}[1 + ${seed} % ${xs.length}]`;

/** Synthetic web events straight into the events table; the views fill the rollup and sessions. */
async function load(dataDir: string, accountId: string, now: number) {
  const { Session, drainPending } = await import('chdb');
  const session = new Session(join(dataDir, 'chdb'));
  const sessions = Math.round(EVENTS / 4);
  const paths = Array.from({ length: 50 }, (_, i) => (i === 0 ? '/' : `/page-${i}`));
  const names = ['screen_view', 'screen_view', 'screen_view', 'screen_view', 'screen_view', 'screen_view', 'click', 'add_to_cart', 'checkout', 'purchase'];
  const referrers: [string, string][] = [
    ['', 'direct'],
    ['Google', 'search'],
    ['Bing', 'search'],
    ['Twitter', 'social'],
    ['Facebook', 'social'],
    ['Gmail', 'email'],
    ['news.example.com', 'referral'],
  ];
  const started = performance.now();
  // s: the session (random, so sessions have 1 to ~12 events), d: its device, k: the event's minute in it.
  session.query(
    `INSERT INTO ${EVENTS_TABLE} (account_id, event_id, event_type, event_name, timestamp, received_at, session_id, user_id,
       anonymous_id, properties, ip, user_agent, locale, browser, browser_version, os, os_version, device_type, search_text,
       origin, path, title, referrer, referrer_name, referrer_type, utm_source, utm_medium, utm_campaign, country, region, city)
     SELECT '${accountId}', generateUUIDv4(number), 'track', ${pick(names, 'cityHash64(number, 5)')},
       fromUnixTimestamp64Milli(toInt64(${now} - (cityHash64(s, 2) % ${30 * DAY}) + (cityHash64(number, 6) % 10) * 60000 - 600000)) AS ts, ts,
       concat('ses_', toString(s)), if(d % 10 < 3, concat('user', toString(d)), ''), concat('dev', toString(d)),
       '{}', '127.0.0.1', '', 'en-US',
       ${pick(['Chrome', 'Safari', 'Firefox', 'Edge', 'Mobile Safari'], 'd')}, '120', ${pick(['Windows', 'Mac OS', 'iOS', 'Android', 'Linux'], 'cityHash64(d, 1)')}, '14',
       ${pick(['desktop', 'desktop', 'mobile', 'tablet'], 'cityHash64(d, 2)')}, '',
       'https://shop.example.com', ${pick(paths, 'cityHash64(number, 7)')}, 'Page',
       '', ${pick(referrers.map((r) => r[0]), 'cityHash64(s, 3)')} AS rn, ${list(referrers.map((r) => r[1]))}[indexOf(${list(referrers.map((r) => r[0]))}, rn)],
       ${pick(['', '', '', 'newsletter', 'google', 'twitter'], 'cityHash64(s, 4)')}, '', '',
       ${pick(['US', 'GB', 'DE', 'FR', 'IN', 'BR', 'JP', 'CA', 'NL', 'SE'], 'cityHash64(d, 3)')}, '',
       ${pick(['New York', 'London', 'Berlin', 'Paris', 'Mumbai', 'São Paulo', 'Tokyo', 'Toronto', 'Amsterdam', 'Stockholm'], 'cityHash64(d, 3)')}
     FROM (SELECT number, cityHash64(number, 1) % ${sessions} AS s, s % 100000 AS d FROM numbers(${EVENTS}))
     SETTINGS max_insert_block_size = 1048576`,
  );
  const seconds = (performance.now() - started) / 1000;
  // The load went around the writer, which keeps the session summaries: build them as the
  // migration that introduced them does.
  const summarizing = performance.now();
  for (const statement of rebuildStatements()) session.query(statement);
  const summarySeconds = (performance.now() - summarizing) / 1000;
  // The views wrote a part per inserted block; merge them as background merges do in time
  // (profile_activity keeps a profile's bucket once only after a merge).
  for (const table of [ACTIVITY_TABLE, STEP_EVENTS_TABLE, STEP_FIRSTS_TABLE]) session.query(`OPTIMIZE TABLE ${table} FINAL`);
  const tables = [EVENTS_TABLE, ACTIVITY_TABLE, STEP_EVENTS_TABLE, STEP_FIRSTS_TABLE, SESSIONS_TABLE, SESSION_LATEST_TABLE, SESSION_ROLLUP_TABLE, VISITOR_IDS_TABLE, VISITOR_BITMAPS_TABLE, PAGE_ROLLUP_TABLE];
  const sizes = session.query(
    `SELECT table, sum(rows), sum(bytes_on_disk) FROM system.parts WHERE active AND table IN (${list(tables)}) GROUP BY table ORDER BY table`,
    'TSV',
  );
  session.close();
  await drainPending();
  return { seconds, summarySeconds, sizes: sizes.trim().split('\n').map((l) => l.split('\t')) };
}

async function main(): Promise<void> {
  const kept = process.env.BENCH_DATA_DIR;
  const dataDir = kept ?? mkdtempSync(join(tmpdir(), 'bench-insights-'));
  const marker = join(dataDir, 'bench-account.json');
  console.log(`bench/insights: ${EVENTS.toLocaleString('en')} events, ${RUNS} runs per endpoint, node ${process.version}\n`);
  const service = new EmbeddedService(dataDir, PORT);
  const api = service.api.bind(service);
  let account: { id: string; read: string };
  if (kept && existsSync(marker)) {
    account = JSON.parse(readFileSync(marker, 'utf8'));
    console.log(`reusing the load in ${dataDir}\n`);
  } else {
    mkdirSync(dataDir, { recursive: true });
    await service.start();
    const created = await api('POST', '/api/accounts', ROOT_KEY, { name: 'bench' });
    account = { id: created.id, read: created.clients.read.clientSecret };
    await service.stop();
    const loaded = await load(dataDir, account.id, Date.now());
    console.log(`load: ${loaded.seconds.toFixed(1)} s (the rollup and sessions views included)`);
    console.log(`session summaries and rollups built in ${loaded.summarySeconds.toFixed(1)} s`);
    for (const [table, rows, bytes] of loaded.sizes) {
      console.log(`  ${table}: ${Number(rows).toLocaleString('en')} rows, ${(Number(bytes) / 1024 / 1024).toFixed(0)} MiB on disk`);
    }
    console.log('');
    writeFileSync(marker, JSON.stringify(account));
  }
  const read = account.read;

  const starting = performance.now();
  await service.start();
  console.log(`service ready in ${((performance.now() - starting) / 1000).toFixed(1)} s (migrations included)\n`);
  const base = `/insights/${account.id}`;
  const range = 'range=30d';
  const get = (path: string) => () => api('GET', `${base}/${path}`, read);
  const filter = (name: string, value: string) => encodeURIComponent(JSON.stringify([{ name, operator: 'is', value: [value] }]));
  const endpoints: [string, () => Promise<unknown>][] = [
    ['metrics', get(`metrics?${range}`)],
    ['timeseries (day)', get(`timeseries?${range}&interval=day`)],
    ['live', get('live')],
    ['pages', get(`pages?${range}`)],
    ['entry-pages', get(`entry-pages?${range}`)],
    ['exit-pages', get(`exit-pages?${range}`)],
    ['referrers', get(`referrers?${range}`)],
    ['utm', get(`utm?${range}`)],
    ['devices', get(`devices?${range}`)],
    ['browsers', get(`browsers?${range}`)],
    ['os', get(`os?${range}`)],
    ['countries', get(`countries?${range}`)],
    ['regions', get(`regions?${range}`)],
    ['cities', get(`cities?${range}`)],
    ['metrics, filtered (country is DE)', get(`metrics?${range}&filters=${filter('country', 'DE')}`)],
    ['pages, filtered (referrer is Google)', get(`pages?${range}&filters=${filter('referrer_name', 'Google')}`)],
    ['browsers, filtered (country is DE)', get(`browsers?${range}&filters=${filter('country', 'DE')}`)],
    ['funnel, 4 steps', () => api('POST', `${base}/funnel`, read, { range: '30d', steps: ['screen_view', 'add_to_cart', 'checkout', 'purchase'] })],
    ['retention, 30 days', get(`retention?${range}&period=day`)],
  ];
  console.log('| endpoint | p50 ms | p99 ms | max ms |');
  console.log('|---|---:|---:|---:|');
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
  for (const [label, call] of endpoints.filter(([label]) => !only || only.test(label))) {
    const { times } = await timeCalls(RUNS, call);
    console.log(`| ${label} | ${percentile(times, 0.5).toFixed(0)} | ${percentile(times, 0.99).toFixed(0)} | ${times.at(-1)!.toFixed(0)} |`);
  }
  const metrics = (await get(`metrics?${range}`)()) as { metrics: Record<string, number> };
  console.log(`\n30-day figures: ${JSON.stringify(metrics.metrics)}`);
  await service.stop();
  if (!kept) rmSync(dataDir, { recursive: true, force: true });
}

await main();
