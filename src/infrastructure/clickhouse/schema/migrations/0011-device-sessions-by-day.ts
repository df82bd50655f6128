/**
 * Migration 11: the session assigner state kept for the retention and sorted by day, so late and historical events join their sessions.
 *
 * SHIPPED: NEVER EDIT THIS FILE. A store that ran it keeps what it made (CREATE … IF NOT EXISTS
 * leaves it alone), so an edit would reach new stores only, and they would differ from upgraded
 * ones. A fix or a change is a new migration with the next number. `{retentionDays}` (RETENTION_DAYS)
 * is the only parameter; the migrator substitutes it when it applies the statements.
 *
 * The session assigner state kept for the retention and sorted by day, so late and historical
 * events join their sessions. device_sessions kept a session two days after its last event time,
 * so the state of an event more than two days old expired as it was written. The state is
 * derived from the stored sessions (those the assigner named: ses_ and 24 hex digits), so it is
 * rebuilt from them, which also gives back the state that had expired. Every statement can run
 * again.
 */
import type { Migration } from '../../migrator.js';

export const MIGRATION_0011: Migration = Object.freeze({
  version: 11,
  name: 'the session assigner state kept for the retention and sorted by day, so late and historical events join their sessions',
  statements: Object.freeze([
    `CREATE TABLE IF NOT EXISTS device_sessions_by_day (
        account_id LowCardinality(String),
        device_id String,
        session_id String,
        session_start DateTime64(3, 'UTC'),
        last_seen DateTime64(3, 'UTC'),
        INDEX idx_session_start session_start TYPE minmax GRANULARITY 1
      )
      ENGINE = ReplacingMergeTree
      ORDER BY (account_id, toDate(last_seen), device_id, session_id)
      TTL toDateTime(last_seen) + INTERVAL {retentionDays} DAY`,
    `TRUNCATE TABLE device_sessions_by_day`,
    `INSERT INTO device_sessions_by_day (account_id, device_id, session_id, session_start, last_seen)
      SELECT account_id, max(device_id), session_id, min(start), max(end)
      FROM sessions
      WHERE match(session_id, '^ses_[0-9a-f]{24}$')
      GROUP BY account_id, session_id
      HAVING max(device_id) != ''
      SETTINGS max_execution_time = 0`,
    `DROP TABLE IF EXISTS device_sessions`,
  ]),
});
