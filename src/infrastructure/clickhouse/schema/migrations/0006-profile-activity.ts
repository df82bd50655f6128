/**
 * Migration 6: profile activity per 15 minutes, for retention.
 *
 * SHIPPED: NEVER EDIT THIS FILE. A store that ran it keeps what it made (CREATE … IF NOT EXISTS
 * leaves it alone), so an edit would reach new stores only, and they would differ from upgraded
 * ones. A fix or a change is a new migration with the next number. `{retentionDays}` (RETENTION_DAYS)
 * is the only parameter; the migrator substitutes it when it applies the statements.
 *
 * profile_activity, for retention: each profile (user id, else anonymous id; a 64-bit hash) and
 * the 15 minutes it had an event in, bots left out. Retention over any event reads it instead of
 * the events: a period of any interval in any zone is a whole number of 15-minute buckets.
 * Filled first with what is stored (created, the view dropped for a re-run after a crash,
 * emptied, copied into, then the view created): exact with one writer, which holds at boot.
 */
import type { Migration } from '../../migrator.js';

export const MIGRATION_0006: Migration = Object.freeze({
  version: 6,
  name: 'profile activity per 15 minutes, for retention',
  statements: Object.freeze([
    `CREATE TABLE IF NOT EXISTS profile_activity (
        account_id LowCardinality(String),
        bucket DateTime('UTC'),
        profile UInt64
      )
      ENGINE = ReplacingMergeTree
      ORDER BY (account_id, bucket, profile)
      TTL bucket + INTERVAL {retentionDays} DAY
      SETTINGS non_replicated_deduplication_window = 1000`,
    `DROP VIEW IF EXISTS profile_activity_mv`,
    `TRUNCATE TABLE profile_activity`,
    `INSERT INTO profile_activity
      SELECT DISTINCT account_id, toStartOfFifteenMinutes(timestamp) AS bucket,
        sipHash64(if(user_id != '', user_id, anonymous_id)) AS profile
      FROM events
      WHERE is_bot = 0 AND if(user_id != '', user_id, anonymous_id) != ''
      SETTINGS max_execution_time = 0`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS profile_activity_mv TO profile_activity AS
      SELECT DISTINCT account_id, toStartOfFifteenMinutes(timestamp) AS bucket,
        sipHash64(if(user_id != '', user_id, anonymous_id)) AS profile
      FROM events
      WHERE is_bot = 0 AND if(user_id != '', user_id, anonymous_id) != ''`,
  ]),
});
