/**
 * Migration 14: each row of metric_hours keeps its value as well as its state.
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
 */
import type { Migration } from '../../migrator.js';

export const MIGRATION_0014: Migration = Object.freeze({
  version: 14,
  name: 'metric_hours rows keep their value',
  statements: Object.freeze([`ALTER TABLE metric_hours ADD COLUMN IF NOT EXISTS value Nullable(Float64) AFTER n`]),
});
