/**
 * Migration 2: per-minute rollup of event counts, users and sessions.
 *
 * SHIPPED: NEVER EDIT THIS FILE. A store that ran it keeps what it made (CREATE … IF NOT EXISTS
 * leaves it alone), so an edit would reach new stores only, and they would differ from upgraded
 * ones. A fix or a change is a new migration with the next number. `{retentionDays}` (RETENTION_DAYS)
 * is the only parameter; the migrator substitutes it when it applies the statements.
 *
 * events_by_minute: events per account, minute, event name and type, with exact user and session
 * sets. The view feeds it from every insert into events, block by block. A retried insert (same
 * deduplication token) is dropped by the rollup as by events: the view's blocks carry tokens
 * derived from the insert's (deduplicate_blocks_in_dependent_materialized_views), which the
 * rollup remembers as events does.
 * Rows stored before this migration are copied in first. That copy is exact when nothing else
 * writes meanwhile, which holds at boot: the ingest pipeline starts after migrations. (A rolling
 * upgrade with several writers should stop the others while the first boots.) Every statement
 * can run again after a crash: the copy starts from an empty rollup.
 */
import type { Migration } from '../../migrator.js';

export const MIGRATION_0002: Migration = Object.freeze({
  version: 2,
  name: 'per-minute rollup of event counts, users and sessions',
  statements: Object.freeze([
    `CREATE TABLE IF NOT EXISTS events_by_minute (
        account_id LowCardinality(String),
        minute DateTime('UTC') CODEC(Delta, ZSTD(1)),
        event_name LowCardinality(String),
        event_type LowCardinality(String),
        events SimpleAggregateFunction(sum, UInt64),
        users AggregateFunction(uniqExact, String),
        sessions AggregateFunction(uniqExact, String)
      )
      ENGINE = AggregatingMergeTree
      PARTITION BY toYYYYMM(minute)
      ORDER BY (account_id, event_name, event_type, minute)
      TTL minute + INTERVAL {retentionDays} DAY
      SETTINGS non_replicated_deduplication_window = 1000`,
    `DROP VIEW IF EXISTS events_by_minute_mv`,
    `TRUNCATE TABLE events_by_minute`,
    `INSERT INTO events_by_minute
      SELECT account_id, toStartOfMinute(timestamp) AS minute, event_name, event_type, count() AS events,
        uniqExactStateIf(if(user_id != '', user_id, anonymous_id), if(user_id != '', user_id, anonymous_id) != '') AS users,
        uniqExactStateIf(session_id, session_id != '') AS sessions
      FROM events
      GROUP BY account_id, minute, event_name, event_type`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS events_by_minute_mv TO events_by_minute AS
      SELECT account_id, toStartOfMinute(timestamp) AS minute, event_name, event_type, count() AS events,
        uniqExactStateIf(if(user_id != '', user_id, anonymous_id), if(user_id != '', user_id, anonymous_id) != '') AS users,
        uniqExactStateIf(session_id, session_id != '') AS sessions
      FROM events
      GROUP BY account_id, minute, event_name, event_type`,
  ]),
});
