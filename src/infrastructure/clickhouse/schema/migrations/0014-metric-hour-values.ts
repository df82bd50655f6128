/**
 * Migration 14: each row of metric_hours keeps its value as well as its state, and unique counts
 * keep their states merged over the computed part of a range asked again.
 *
 * SHIPPED: NEVER EDIT THIS FILE. A store that ran it keeps what it made (CREATE … IF NOT EXISTS
 * leaves it alone), so an edit would reach new stores only, and they would differ from upgraded
 * ones. A fix or a change is a new migration with the next number. `{retentionDays}` (RETENTION_DAYS)
 * is the only parameter; the migrator substitutes it when it applies the statements.
 *
 * `value` is the metric's value over the row's events (the raw aggregate, computed with the
 * state). A bucket that is exactly one row (an hour of an hourly series; a UTC day of a daily
 * one, whose rows merge the day's hours) reads it instead of finalizing the state: estimating
 * one approximate unique count reads all 2^17 cells of its sketch. Rows written before this
 * migration have no value; the states' format changed with it (STATE_FORMAT 2 in
 * metric-hours.service.ts), so those rows are not read again and expire with the retention.
 *
 * metric_spans holds, for a unique count's range asked more than once, its computed hours'
 * states merged per group: the range's total merges one state (plus the raw edges) instead of a
 * state per day and hour, one hash insertion per user and day (a week of 100k daily users: 74 ms).
 * A span's rows are those of one computation (`computed_at`; its mark in metric_hour_marks
 * says which, and how many late rows its hours had); the queries use a span computed in the
 * last 12 hours only, and the rows expire a day after they were computed.
 */
import type { Migration } from '../../migrator.js';

export const MIGRATION_0014: Migration = Object.freeze({
  version: 14,
  name: 'metric_hours rows keep their value; merged states of unique counts over ranges asked again',
  statements: Object.freeze([
    `ALTER TABLE metric_hours ADD COLUMN IF NOT EXISTS value Nullable(Float64) AFTER n`,
    `CREATE TABLE IF NOT EXISTS metric_spans (
        account_id LowCardinality(String),
        cache_key String,
        span_from DateTime('UTC'),
        span_to DateTime('UTC'),
        computed_at DateTime64(3, 'UTC'),
        gkey String,
        n UInt64,
        uniq_exact AggregateFunction(uniqExact, String),
        uniq_approx AggregateFunction(uniqCombined64, String)
      )
      ENGINE = MergeTree
      ORDER BY (account_id, cache_key, span_from, span_to, computed_at, gkey)
      TTL toDateTime(computed_at) + INTERVAL 1 DAY`,
  ]),
});
