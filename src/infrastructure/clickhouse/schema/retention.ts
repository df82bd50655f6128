import type { EventsStore } from '../events-store.port.js';
import {
  ACTIVITY_TABLE,
  DEVICE_SESSIONS_TABLE,
  EVENTS_TABLE,
  LATE_HOURS_TABLE,
  METRIC_HOUR_MARKS_TABLE,
  METRIC_HOURS_TABLE,
  PAGE_ROLLUP_TABLE,
  PAGE_TITLES_TABLE,
  ROLLUP_TABLE,
  SESSION_LATEST_TABLE,
  SESSION_MOVES_TABLE,
  SESSION_ROLLUP_TABLE,
  SESSIONS_TABLE,
  STEP_EVENTS_TABLE,
  STEP_FIRSTS_TABLE,
  VISITOR_BITMAPS_TABLE,
  VISITOR_REMOVALS_TABLE,
} from './tables.js';

/**
 * The TTL each table keeps its rows by for RETENTION_DAYS, as ClickHouse prints it in
 * engine_full: every table the migrations create with `INTERVAL {retentionDays} DAY`
 * (test/schema-migrations.test.ts checks that none is missing). session_deltas keeps a day of
 * deltas and metric_spans a day of merged states whatever the retention, so they are not here.
 */
export function retentionTtls(retentionDays: number): Record<string, string> {
  const days = `toIntervalDay(${retentionDays})`;
  return {
    [EVENTS_TABLE]: `toDateTime(timestamp) + ${days}`,
    [ROLLUP_TABLE]: `minute + ${days}`,
    [SESSIONS_TABLE]: `toDateTime(end) + ${days}`,
    [DEVICE_SESSIONS_TABLE]: `toDateTime(last_seen) + ${days}`,
    [SESSION_LATEST_TABLE]: `toDateTime(end) + ${days}`,
    [SESSION_ROLLUP_TABLE]: `bucket + ${days}`,
    [VISITOR_BITMAPS_TABLE]: `bucket + ${days}`,
    [VISITOR_REMOVALS_TABLE]: `bucket + ${days}`,
    [PAGE_ROLLUP_TABLE]: `bucket + ${days}`,
    [PAGE_TITLES_TABLE]: `toDateTime(last_seen) + ${days}`,
    [ACTIVITY_TABLE]: `bucket + ${days}`,
    [STEP_EVENTS_TABLE]: `toDateTime(timestamp) + ${days}`,
    [STEP_FIRSTS_TABLE]: `day + ${days}`,
    [SESSION_MOVES_TABLE]: `moved + ${days}`,
    [METRIC_HOURS_TABLE]: `hour + ${days}`,
    [METRIC_HOUR_MARKS_TABLE]: `hour + ${days}`,
    [LATE_HOURS_TABLE]: `hour + ${days}`,
  };
}

/**
 * Makes every retention TTL follow RETENTION_DAYS: a table whose TTL (read from the table's own
 * engine_full, the value in force) is not the wanted one gets `ALTER TABLE … MODIFY TTL`, which
 * ClickHouse applies to the stored parts in the background. Runs at every boot after the
 * migrations; it changes nothing when the setting did not change. Returns the tables changed.
 */
export async function applyRetention(store: EventsStore, retentionDays: number): Promise<string[]> {
  const changed: string[] = [];
  for (const [name, wanted] of Object.entries(retentionTtls(retentionDays))) {
    const [table] = await store.query<{ engine_full: string }>(
      `SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {name:String}`,
      { name },
    );
    if (table && !table.engine_full.includes(`TTL ${wanted}`)) {
      await store.command(`ALTER TABLE ${name} MODIFY TTL ${wanted}`);
      changed.push(name);
    }
  }
  return changed;
}
