/**
 * Migration 7: step events: each event as name, time and hashed profile and session, for funnels.
 *
 * SHIPPED: NEVER EDIT THIS FILE. A store that ran it keeps what it made (CREATE … IF NOT EXISTS
 * leaves it alone), so an edit would reach new stores only, and they would differ from upgraded
 * ones. A fix or a change is a new migration with the next number. `{retentionDays}` (RETENTION_DAYS)
 * is the only parameter; the migrator substitutes it when it applies the statements.
 *
 * step_events, for funnels: every event (bots left out) as its name, time, and its profile (user
 * id, else anonymous id) and session as 64-bit hashes (0: none). A funnel whose steps are event
 * names alone reads this instead of the events. Sorted by name and profile, so a profile's events
 * sit together; a month per partition keeps a range's read to the months it touches. Exact
 * duplicates (a batch stored twice) change no funnel, which folds first times. Filled first with
 * what is stored, as in version 6.
 */
import type { Migration } from '../../migrator.js';

export const MIGRATION_0007: Migration = Object.freeze({
  version: 7,
  name: 'step events: each event as name, time and hashed profile and session, for funnels',
  statements: Object.freeze([
    `CREATE TABLE IF NOT EXISTS step_events (
        account_id LowCardinality(String),
        event_name LowCardinality(String),
        timestamp DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
        profile UInt64,
        session UInt64
      )
      ENGINE = MergeTree
      PARTITION BY toYYYYMM(timestamp)
      ORDER BY (account_id, event_name, profile, timestamp)
      TTL toDateTime(timestamp) + INTERVAL {retentionDays} DAY
      SETTINGS non_replicated_deduplication_window = 1000`,
    `DROP VIEW IF EXISTS step_events_mv`,
    `TRUNCATE TABLE step_events`,
    `INSERT INTO step_events
      SELECT account_id, event_name, timestamp,
        if(if(user_id != '', user_id, anonymous_id) != '', sipHash64(if(user_id != '', user_id, anonymous_id)), 0) AS profile,
        if(session_id != '', sipHash64(session_id), 0) AS session
      FROM events
      WHERE is_bot = 0
      SETTINGS max_execution_time = 0`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS step_events_mv TO step_events AS
      SELECT account_id, event_name, timestamp,
        if(if(user_id != '', user_id, anonymous_id) != '', sipHash64(if(user_id != '', user_id, anonymous_id)), 0) AS profile,
        if(session_id != '', sipHash64(session_id), 0) AS session
      FROM events
      WHERE is_bot = 0`,
  ]),
});
