/**
 * bench/session-state: what keeping the session assigner's state (`device_sessions`) for the
 * whole retention costs, against the two days it was kept before (measured in the same run).
 *
 * Stores BENCH_DEVICES (default 100,000) devices' sessions over RETENTION_DAYS (default 90) days
 * in `sessions` of the embedded store, at bench/insights' rate (about 24.5 sessions per device
 * per 30 days: 2.45 million sessions a month), for one account, and times migration 11 building
 * the assigner's state from them; then the same devices' last two days for another account (the
 * state as the old two-day TTL kept it). Prints the state's size on disk for each, and p50 / p99
 * of `SessionAssigner.assign` for a writer chunk of BENCH_CHUNK (default 5,000) events of random
 * devices, against each account: events of now (live traffic), and events of 60 days ago (a
 * history import); and, as the baseline, the lookup before migration 11 on its layout.
 *
 *   npm run build && node dist/bench/session-state.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '../src/config/config.schema.js';
import { loadConfig } from '../src/config/config.schema.js';
import { EVENTS_MIGRATIONS } from '../src/infrastructure/clickhouse/schema/migrations/index.js';
import { toClickHouseTime } from '../src/infrastructure/clickhouse/clickhouse-time.js';
import { ChdbEventsStore } from '../src/infrastructure/clickhouse/chdb.events-store.js';
import { migrate, migrationStatements } from '../src/infrastructure/clickhouse/migrator.js';
import { SessionAssigner } from '../src/sessions/session-assigner.js';
import { DEVICE_SESSIONS_TABLE, SESSIONS_TABLE } from '../src/infrastructure/clickhouse/schema/tables.js';
import { percentile } from './embedded-service.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 100_000);
const RETENTION_DAYS = Number(process.env.RETENTION_DAYS ?? 90);
const CHUNK = Number(process.env.BENCH_CHUNK ?? 5_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const DAY = 86_400_000;
/** Sessions per device per day: 2.45 million sessions of 100,000 devices in 30 days. */
const SESSIONS_PER_DEVICE_DAY = 2_450_000 / 100_000 / 30;

/** The layout before migration 11 (sorted by device), to time its lookup over the same state. */
const OLD_LAYOUT = 'device_sessions_old_layout';

/**
 * Stored sessions of every device over the `days` days before now, as the sessions view keeps
 * them (the columns migration 11 reads): a device's sessions in order, apart, up to 30 minutes.
 */
function loadSessionsSql(account: string, days: number, now: number): string {
  const perDevice = Math.max(1, Math.round(SESSIONS_PER_DEVICE_DAY * days));
  const spacing = Math.floor((days * DAY) / perDevice);
  return `INSERT INTO ${SESSIONS_TABLE} (account_id, session_id, device_id, start, end)
    SELECT '${account}', concat('ses_', lower(substring(hex(sipHash128(number, '${account}')), 1, 24))),
      concat('dev-', toString(number % ${DEVICES})),
      fromUnixTimestamp64Milli(toInt64(${now - days * DAY} + intDiv(number, ${DEVICES}) * ${spacing} + cityHash64(number, 7) % ${Math.floor(spacing / 2)})) AS start,
      start + toIntervalSecond(cityHash64(number, 8) % 1800)
    FROM numbers(${DEVICES * perDevice})
    SETTINGS max_insert_block_size = 1048576`;
}

/** The lookup as the assigner ran it before migration 11, on the old layout. */
async function oldLookup(store: ChdbEventsStore, rows: Buffer): Promise<void> {
  const parsed = rows
    .toString('utf8')
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l) as { account_id: string; anonymous_id: string });
  const devices = [...new Set(parsed.map((r) => r.anonymous_id))];
  for (let i = 0; i < devices.length; i += 1000) {
    await store.query(
      `SELECT account_id AS a, device_id AS d, session_id AS id,
         toUnixTimestamp64Milli(min(session_start)) AS start, toUnixTimestamp64Milli(max(last_seen)) AS last
       FROM ${OLD_LAYOUT}
       WHERE account_id IN {accounts:Array(String)} AND device_id IN {devices:Array(String)}
       GROUP BY account_id, device_id, session_id`,
      { accounts: [parsed[0]!.account_id], devices: devices.slice(i, i + 1000) },
    );
  }
}

async function tableSize(store: ChdbEventsStore, table = DEVICE_SESSIONS_TABLE): Promise<{ rows: number; bytes: number }> {
  const [r] = await store.query<{ rows: number; bytes: number }>(
    `SELECT sum(rows) AS rows, sum(bytes_on_disk) AS bytes FROM system.parts WHERE active AND table = {t:String}`,
    { t: table },
  );
  return { rows: Number(r!.rows), bytes: Number(r!.bytes) };
}

/** A writer chunk: CHUNK events without session ids, of random devices, around `at`. */
function chunk(account: string, at: number, seed: number): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < CHUNK; i++) {
    const device = `dev-${(seed * 7919 + i * 104729) % DEVICES}`;
    const timestamp = toClickHouseTime(at - ((i * 37) % 600) * 1000);
    lines.push(JSON.stringify({ account_id: account, session_id: '', anonymous_id: device, timestamp }));
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

async function timeRuns(account: string, at: number, run: (rows: Buffer) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let k = 0; k < RUNS + 2; k++) {
    const rows = chunk(account, at, k);
    const started = performance.now();
    await run(rows);
    if (k >= 2) times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  Logger.overrideLogger(['error']);
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-session-state-'));
  const config: AppConfig = loadConfig({ DATA_DIR: dataDir, RETENTION_DAYS: String(RETENTION_DAYS) });
  const store = await ChdbEventsStore.open(dataDir, 3, 600_000);
  try {
    await migrate(store, EVENTS_MIGRATIONS, { retentionDays: RETENTION_DAYS });
    const now = Date.now();
    console.log(
      `bench/session-state: ${DEVICES.toLocaleString('en')} devices, ${SESSIONS_PER_DEVICE_DAY.toFixed(3)} sessions per device and day, ` +
        `chunks of ${CHUNK.toLocaleString('en')} events, ${RUNS} runs, node ${process.version}\n`,
    );
    // The state as migration 11 builds it from the stored sessions: the whole retention's for
    // one account, then the last two days' (what the old TTL kept) for another.
    await store.command(loadSessionsSql('full', RETENTION_DAYS, now));
    const migration = migrationStatements(EVENTS_MIGRATIONS.find((m) => m.version === 11)!, { retentionDays: RETENTION_DAYS });
    let started = performance.now();
    for (const statement of migration) await store.command(statement);
    const migrationSeconds = (performance.now() - started) / 1000;
    await store.command(`OPTIMIZE TABLE ${DEVICE_SESSIONS_TABLE} FINAL`);
    const full = await tableSize(store);
    console.log(
      `state for ${RETENTION_DAYS} days: ${full.rows.toLocaleString('en')} sessions, ${(full.bytes / 2 ** 20).toFixed(1)} MiB on disk ` +
        `(${(full.bytes / full.rows).toFixed(1)} bytes per session); migration 11 built it from the stored sessions in ${migrationSeconds.toFixed(1)} s`,
    );
    await store.command(loadSessionsSql('recent', 2, now));
    await store.command(migration.find((s) => s.startsWith('INSERT'))!.replace('WHERE ', "WHERE account_id = 'recent' AND "));
    await store.command(`OPTIMIZE TABLE ${DEVICE_SESSIONS_TABLE} FINAL`);
    const both = await tableSize(store);
    const recent = { rows: both.rows - full.rows, bytes: both.bytes - full.bytes };
    console.log(`state for 2 days: ${recent.rows.toLocaleString('en')} sessions, ${(recent.bytes / 2 ** 20).toFixed(1)} MiB on disk\n`);

    await store.command(
      `CREATE TABLE ${OLD_LAYOUT} (account_id LowCardinality(String), device_id String, session_id String,
         session_start DateTime64(3, 'UTC'), last_seen DateTime64(3, 'UTC'))
       ENGINE = ReplacingMergeTree(last_seen) ORDER BY (account_id, device_id, session_id)`,
    );
    await store.command(`INSERT INTO ${OLD_LAYOUT} SELECT * FROM ${DEVICE_SESSIONS_TABLE}`);
    await store.command(`OPTIMIZE TABLE ${OLD_LAYOUT} FINAL`);

    const assigner = new SessionAssigner(store, config);
    const assign = (rows: Buffer) => assigner.assign(rows);
    console.log('| one writer chunk | p50 | p99 |');
    console.log('|---|---:|---:|');
    for (const [label, account, at, run] of [
      [`assign live events, state of ${RETENTION_DAYS} days`, 'full', now, assign],
      ['assign live events, state of 2 days', 'recent', now, assign],
      [`assign events of 60 days ago, state of ${RETENTION_DAYS} days`, 'full', now - 60 * DAY, assign],
      [`the lookup alone before migration 11 (sorted by device), state of ${RETENTION_DAYS} days`, 'full', now, (rows: Buffer) => oldLookup(store, rows)],
      ['the lookup alone before migration 11 (sorted by device), state of 2 days', 'recent', now, (rows: Buffer) => oldLookup(store, rows)],
    ] as const) {
      const times = await timeRuns(account, at, run);
      console.log(`| ${label} | ${percentile(times, 0.5).toFixed(0)} ms | ${percentile(times, 0.99).toFixed(0)} ms |`);
    }
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
