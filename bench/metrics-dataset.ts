import { join } from 'node:path';
import { ROLLUP_TABLE } from '../src/infrastructure/clickhouse/schema/tables.js';

const DAY = 86_400_000;

/**
 * bench/metrics' data set, shared by the benches that judge custom metrics (metrics, alerts):
 * `events` synthetic events (100k users, 50 event names, 30 properties: p0..p9 low-cardinality
 * strings, p10..p19 numbers, p20..p29 higher-cardinality strings, over the 30 days before
 * `now`) straight into the events table (the ingest path is bench/ingest's subject); the
 * per-minute rollup's view fills too. `first` numbers the first event, so a second load adds
 * different events to the first (bench/metrics' growth runs).
 */
export async function loadMetricsDataset(dataDir: string, accountId: string, now: number, events: number, first = 0) {
  const { Session, drainPending } = await import('chdb');
  const session = new Session(join(dataDir, 'chdb'));
  const props = Array.from({ length: 30 }, (_, k) => {
    // p0..p9 low-cardinality strings, p10..p19 numbers, p20..p29 higher-cardinality strings
    if (k < 10) return `'"p${k}":"v', toString((number * ${k + 7}) % ${k + 3}), '"'`;
    if (k < 20) return `'"p${k}":', toString((number * ${k + 13}) % 1000)`;
    return `'"p${k}":"x', toString(cityHash64(number, ${k}) % 5000), '"'`;
  });
  const started = performance.now();
  session.query(
    `INSERT INTO events (account_id, event_id, event_type, event_name, timestamp, received_at, session_id, user_id,
       anonymous_id, properties, ip, user_agent, locale, browser, browser_version, os, os_version, device_type, search_text)
     SELECT '${accountId}', generateUUIDv4(number), 'track', concat('event_', toString(cityHash64(number, 1) % 50)),
       fromUnixTimestamp64Milli(toInt64(${now} - (cityHash64(number, 2) % ${30 * DAY}))) AS ts, ts,
       concat('s', toString(intDiv(cityHash64(number, 3) % 100000, 1) * 10 + number % 10)),
       concat('u', toString(cityHash64(number, 4) % 100000)), '',
       concat('{', ${props.join(", ',', ")}, '}'),
       '127.0.0.1', '', 'en-US', 'Chrome', '120', 'Mac OS', '14', 'desktop', ''
     FROM numbers(${first}, ${events})
     SETTINGS max_insert_block_size = 1048576`,
  );
  const seconds = (performance.now() - started) / 1000;
  const size = session.query(
    `SELECT sumIf(bytes_on_disk, table = 'events'), sumIf(rows, table = 'events'), sumIf(bytes_on_disk, table = '${ROLLUP_TABLE}'),
       sumIf(rows, table = '${ROLLUP_TABLE}') FROM system.parts WHERE active`,
    'TSV',
  );
  const [bytes, rows, rollupBytes, rollupRows] = size.trim().split('\t').map(Number) as [number, number, number, number];
  session.close();
  await drainPending();
  return { seconds, bytes, rows, rollupBytes, rollupRows };
}
