/**
 * Migration 12: approximate unique users and sessions in the per-minute rollup.
 *
 * SHIPPED: NEVER EDIT THIS FILE. A store that ran it keeps what it made (CREATE … IF NOT EXISTS
 * leaves it alone), so an edit would reach new stores only, and they would differ from upgraded
 * ones. A fix or a change is a new migration with the next number. `{retentionDays}` (RETENTION_DAYS)
 * is the only parameter; the migrator substitutes it when it applies the statements.
 *
 * events_by_minute gains mergeable uniqCombined64 states of its users and sessions beside the
 * exact ones, which the view fills from now on. The rows already rolled up get theirs from the
 * backfill (src/metrics/approximate-uniques.backfill.ts), day by day after boot, never here: a
 * store of a billion events must not hold its boot for a copy. The backfill's record starts here,
 * with the moment the view changed: every event stored before it is in a day the backfill covers.
 * Until the record says finished, approximate metrics read raw events (the same answers).
 */
import type { Migration } from '../../migrator.js';

export const MIGRATION_0012: Migration = Object.freeze({
  version: 12,
  name: 'approximate unique users and sessions in the per-minute rollup',
  statements: Object.freeze([
    `ALTER TABLE events_by_minute
        ADD COLUMN IF NOT EXISTS users_approx AggregateFunction(uniqCombined64, String),
        ADD COLUMN IF NOT EXISTS sessions_approx AggregateFunction(uniqCombined64, String)`,
    `ALTER TABLE events_by_minute_mv MODIFY QUERY
      SELECT account_id, toStartOfMinute(timestamp) AS minute, event_name, event_type, count() AS events,
        uniqExactStateIf(if(user_id != '', user_id, anonymous_id), if(user_id != '', user_id, anonymous_id) != '') AS users,
        uniqExactStateIf(session_id, session_id != '') AS sessions,
        uniqCombined64StateIf(if(user_id != '', user_id, anonymous_id), if(user_id != '', user_id, anonymous_id) != '') AS users_approx,
        uniqCombined64StateIf(session_id, session_id != '') AS sessions_approx
      FROM events
      WHERE is_bot = 0
      GROUP BY account_id, minute, event_name, event_type`,
    `CREATE TABLE IF NOT EXISTS backfills (
        name LowCardinality(String),
        cutover DateTime64(3, 'UTC'),
        next_day Date,
        last_day Date,
        finished UInt8,
        updated_at DateTime64(3, 'UTC')
      )
      ENGINE = ReplacingMergeTree(updated_at)
      ORDER BY name`,
    `INSERT INTO backfills (name, cutover, next_day, last_day, finished, updated_at)
      SELECT 'events_by_minute approximate uniques', now64(3), min(toDate(timestamp)), max(toDate(timestamp)), count() = 0, now64(3)
      FROM events
      WHERE (SELECT count() FROM backfills WHERE name = 'events_by_minute approximate uniques') = 0`,
  ]),
});
