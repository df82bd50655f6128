/**
 * Migration 9: step firsts: the first time of each event name per profile and session and UTC day, for funnel entries.
 *
 * SHIPPED: NEVER EDIT THIS FILE. A store that ran it keeps what it made (CREATE … IF NOT EXISTS
 * leaves it alone), so an edit would reach new stores only, and they would differ from upgraded
 * ones. A fix or a change is a new migration with the next number. `{retentionDays}` (RETENTION_DAYS)
 * is the only parameter; the migrator substitutes it when it applies the statements.
 *
 * step_firsts, for funnel entries: the first time of each event name per profile and per session
 * (as step_events hashes them) and UTC day. A funnel's entry is each entity's first step-1 event
 * in the range: over the range's whole UTC days that is the least of these, about a quarter of
 * the rows of the events themselves; the cut days at its ends come from step_events. Filled
 * first from step_events, as in version 6.
 */
import type { Migration } from '../../migrator.js';

export const MIGRATION_0009: Migration = Object.freeze({
  version: 9,
  name: 'step firsts: the first time of each event name per profile and session and UTC day, for funnel entries',
  statements: Object.freeze([
    `CREATE TABLE IF NOT EXISTS step_firsts (
        account_id LowCardinality(String),
        event_name LowCardinality(String),
        kind Enum8('profile' = 1, 'session' = 2),
        entity UInt64,
        day Date,
        first SimpleAggregateFunction(min, DateTime64(3, 'UTC'))
      )
      ENGINE = AggregatingMergeTree
      PARTITION BY toYYYYMM(day)
      ORDER BY (account_id, event_name, kind, entity, day)
      TTL day + INTERVAL {retentionDays} DAY
      SETTINGS non_replicated_deduplication_window = 1000`,
    `DROP VIEW IF EXISTS step_firsts_mv`,
    `TRUNCATE TABLE step_firsts`,
    `INSERT INTO step_firsts
      SELECT account_id, event_name, kind, entity, toDate(timestamp) AS day, min(timestamp) AS first
      FROM (
        SELECT account_id, event_name, timestamp,
          arrayJoin([(toInt8(1), profile), (toInt8(2), session)]) AS pair, pair.1 AS kind, pair.2 AS entity
        FROM step_events
      )
      WHERE entity != 0
      GROUP BY account_id, event_name, kind, entity, day
      SETTINGS max_execution_time = 0`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS step_firsts_mv TO step_firsts AS
      SELECT account_id, event_name, kind, entity, toDate(timestamp) AS day, min(timestamp) AS first
      FROM (
        SELECT account_id, event_name, timestamp,
          arrayJoin([(toInt8(1), profile), (toInt8(2), session)]) AS pair, pair.1 AS kind, pair.2 AS entity
        FROM step_events
      )
      WHERE entity != 0
      GROUP BY account_id, event_name, kind, entity, day`,
  ]),
});
