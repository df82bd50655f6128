/**
 * Migration 13: per-metric hourly states, and the hours late events changed.
 *
 * SHIPPED: NEVER EDIT THIS FILE. A store that ran it keeps what it made (CREATE … IF NOT EXISTS
 * leaves it alone), so an edit would reach new stores only, and they would differ from upgraded
 * ones. A fix or a change is a new migration with the next number. `{retentionDays}` (RETENTION_DAYS)
 * is the only parameter; the migrator substitutes it when it applies the statements.
 *
 * metric_hours holds, per account, metric shape (`cache_key`: its selection, aggregation and
 * grouping) and whole UTC hour, the aggregate state of each group: the metric queries merge
 * those instead of reading every event again. The states are of the same functions, over the
 * same argument types (numbers read from properties are Nullable), as the raw queries compute.
 * Each hour is computed once from the events after it is sealed (two hours old);
 * metric_hour_marks records which hours are computed (an hour without a matching event has no
 * state rows but a mark). A recomputed hour replaces its rows (ReplacingMergeTree on
 * computed_at; read with FINAL).
 *
 * late_event_hours counts, per account and sealed hour, the rows inserted into it after it was
 * sealed (by the store's clock). A mark keeps the count it saw before its hour was computed; a
 * count that has grown since means late events, and the hour is computed again. The view keeps
 * only late rows: a live insert costs one comparison per row.
 */
import type { Migration } from '../../migrator.js';

export const MIGRATION_0013: Migration = Object.freeze({
  version: 13,
  name: 'per-metric hourly states, and the hours late events changed',
  statements: Object.freeze([
    `CREATE TABLE IF NOT EXISTS metric_hours (
        account_id LowCardinality(String),
        cache_key String,
        hour DateTime('UTC'),
        gkey String,
        computed_at DateTime64(3, 'UTC'),
        n UInt64,
        sum_state AggregateFunction(sum, Nullable(Float64)),
        avg_state AggregateFunction(avg, Nullable(Float64)),
        min_state AggregateFunction(min, Nullable(Float64)),
        max_state AggregateFunction(max, Nullable(Float64)),
        uniq_exact AggregateFunction(uniqExact, String),
        uniq_approx AggregateFunction(uniqCombined64, String),
        p50_state AggregateFunction(quantileExactInclusive(0.5), Nullable(Float64)),
        p90_state AggregateFunction(quantileExactInclusive(0.9), Nullable(Float64)),
        p95_state AggregateFunction(quantileExactInclusive(0.95), Nullable(Float64)),
        p99_state AggregateFunction(quantileExactInclusive(0.99), Nullable(Float64))
      )
      ENGINE = ReplacingMergeTree(computed_at)
      ORDER BY (account_id, cache_key, hour, gkey)
      TTL hour + INTERVAL {retentionDays} DAY`,
    `CREATE TABLE IF NOT EXISTS metric_hour_marks (
        account_id LowCardinality(String),
        cache_key String,
        hour DateTime('UTC'),
        late_rows UInt64,
        computed_at DateTime64(3, 'UTC')
      )
      ENGINE = ReplacingMergeTree(computed_at)
      ORDER BY (account_id, cache_key, hour)
      TTL hour + INTERVAL {retentionDays} DAY`,
    `CREATE TABLE IF NOT EXISTS late_event_hours (
        account_id LowCardinality(String),
        hour DateTime('UTC'),
        rows SimpleAggregateFunction(sum, UInt64)
      )
      ENGINE = AggregatingMergeTree
      ORDER BY (account_id, hour)
      TTL hour + INTERVAL {retentionDays} DAY`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS late_event_hours_mv TO late_event_hours AS
      SELECT account_id, toStartOfHour(timestamp) AS hour, count() AS rows
      FROM events
      WHERE timestamp < toStartOfHour(now()) - INTERVAL 1 HOUR
      GROUP BY account_id, hour`,
  ]),
});
