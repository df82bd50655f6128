/**
 * Migration 3: web context columns and bots kept out of the rollup.
 *
 * SHIPPED: NEVER EDIT THIS FILE. A store that ran it keeps what it made (CREATE … IF NOT EXISTS
 * leaves it alone), so an edit would reach new stores only, and they would differ from upgraded
 * ones. A fix or a change is a new migration with the next number. `{retentionDays}` (RETENTION_DAYS)
 * is the only parameter; the migrator substitutes it when it applies the statements.
 *
 * Columns of web events (page, traffic source, place, and whether a bot sent it), and bots kept
 * out of the rollup. Adding columns only changes metadata; rows stored before read them as empty
 * strings and 0 (not a bot). The view is switched atomically, so no insert is counted twice or
 * missed. The view's text must stay the metric queries' partial minutes (rollupSelect in
 * src/infrastructure/clickhouse/schema/event-rollup.ts): test/schema-migrations.test.ts compares them.
 */
import type { Migration } from '../../migrator.js';

export const MIGRATION_0003: Migration = Object.freeze({
  version: 3,
  name: 'web context columns and bots kept out of the rollup',
  statements: Object.freeze([
    `ALTER TABLE events
        ADD COLUMN IF NOT EXISTS origin LowCardinality(String),
        ADD COLUMN IF NOT EXISTS path String CODEC(ZSTD(1)),
        ADD COLUMN IF NOT EXISTS title String CODEC(ZSTD(3)),
        ADD COLUMN IF NOT EXISTS referrer String CODEC(ZSTD(1)),
        ADD COLUMN IF NOT EXISTS referrer_name LowCardinality(String),
        ADD COLUMN IF NOT EXISTS referrer_type LowCardinality(String),
        ADD COLUMN IF NOT EXISTS utm_source LowCardinality(String),
        ADD COLUMN IF NOT EXISTS utm_medium LowCardinality(String),
        ADD COLUMN IF NOT EXISTS utm_campaign LowCardinality(String),
        ADD COLUMN IF NOT EXISTS utm_term LowCardinality(String),
        ADD COLUMN IF NOT EXISTS utm_content LowCardinality(String),
        ADD COLUMN IF NOT EXISTS country LowCardinality(String),
        ADD COLUMN IF NOT EXISTS region LowCardinality(String),
        ADD COLUMN IF NOT EXISTS city LowCardinality(String),
        ADD COLUMN IF NOT EXISTS is_bot UInt8`,
    `ALTER TABLE events_by_minute_mv MODIFY QUERY
      SELECT account_id, toStartOfMinute(timestamp) AS minute, event_name, event_type, count() AS events,
        uniqExactStateIf(if(user_id != '', user_id, anonymous_id), if(user_id != '', user_id, anonymous_id) != '') AS users,
        uniqExactStateIf(session_id, session_id != '') AS sessions
      FROM events
      WHERE is_bot = 0
      GROUP BY account_id, minute, event_name, event_type`,
  ]),
});
