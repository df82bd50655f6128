/**
 * Migration 1: create events.
 *
 * SHIPPED: NEVER EDIT THIS FILE. A store that ran it keeps what it made (CREATE … IF NOT EXISTS
 * leaves it alone), so an edit would reach new stores only, and they would differ from upgraded
 * ones. A fix or a change is a new migration with the next number. `{retentionDays}` (RETENTION_DAYS)
 * is the only parameter; the migrator substitutes it when it applies the statements.
 *
 * The events table. The sort key starts with the account (every query is scoped to one), then
 * the day and event name that metric and insight queries filter on.
 * `non_replicated_deduplication_window` makes a retried insert with the same
 * insert_deduplication_token a no-op (ReplicatedMergeTree does this by default).
 */
import type { Migration } from '../../migrator.js';

export const MIGRATION_0001: Migration = Object.freeze({
  version: 1,
  name: 'create events',
  statements: Object.freeze([
    `CREATE TABLE IF NOT EXISTS events (
        account_id LowCardinality(String),
        event_id UUID,
        event_type LowCardinality(String),
        event_name LowCardinality(String),
        timestamp DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
        received_at DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
        session_id String CODEC(ZSTD(1)),
        user_id String CODEC(ZSTD(1)),
        anonymous_id String CODEC(ZSTD(1)),
        properties String CODEC(ZSTD(3)),
        ip String CODEC(ZSTD(1)),
        user_agent String CODEC(ZSTD(3)),
        locale LowCardinality(String),
        browser LowCardinality(String),
        browser_version LowCardinality(String),
        os LowCardinality(String),
        os_version LowCardinality(String),
        device_type LowCardinality(String),
        search_text String CODEC(ZSTD(3)),
        INDEX idx_search search_text TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 1,
        INDEX idx_user_id user_id TYPE bloom_filter(0.01) GRANULARITY 1,
        INDEX idx_session_id session_id TYPE bloom_filter(0.01) GRANULARITY 1,
        INDEX idx_event_id event_id TYPE bloom_filter(0.01) GRANULARITY 1,
        INDEX idx_received_at received_at TYPE minmax GRANULARITY 1
      )
      ENGINE = MergeTree
      PARTITION BY toYYYYMM(timestamp)
      ORDER BY (account_id, toDate(timestamp), event_name, timestamp)
      TTL toDateTime(timestamp) + INTERVAL {retentionDays} DAY
      SETTINGS non_replicated_deduplication_window = 1000`,
  ]),
});
