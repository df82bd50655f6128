/**
 * Migration 4: sessions: the assigner state and the materialized sessions.
 *
 * SHIPPED: NEVER EDIT THIS FILE. A store that ran it keeps what it made (CREATE … IF NOT EXISTS
 * leaves it alone), so an edit would reach new stores only, and they would differ from upgraded
 * ones. A fix or a change is a new migration with the next number. `{retentionDays}` (RETENTION_DAYS)
 * is the only parameter; the migrator substitutes it when it applies the statements.
 *
 * Sessions are materialized from here on; events stored before have no assigned sessions.
 * `device_sessions` was the session assigner's state (replaced in migration 11); `sessions` holds
 * the partial state of every session, fed by a view on events: first and last event times,
 * counts, and the first event's page, traffic source and device, the last one's page, each in
 * its own state column so a query merges only the ones it reads.
 */
import type { Migration } from '../../migrator.js';

export const MIGRATION_0004: Migration = Object.freeze({
  version: 4,
  name: 'sessions: the assigner state and the materialized sessions',
  statements: Object.freeze([
    `CREATE TABLE IF NOT EXISTS device_sessions (
        account_id LowCardinality(String),
        device_id String,
        session_id String,
        session_start DateTime64(3, 'UTC'),
        last_seen DateTime64(3, 'UTC')
      )
      ENGINE = ReplacingMergeTree(last_seen)
      ORDER BY (account_id, device_id, session_id)
      TTL toDateTime(last_seen) + INTERVAL 2 DAY`,
    `CREATE TABLE IF NOT EXISTS sessions (
        account_id LowCardinality(String),
        session_id String,
        device_id SimpleAggregateFunction(max, String),
        user_id SimpleAggregateFunction(max, String),
        start SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
        end SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
        events SimpleAggregateFunction(sum, UInt64),
        page_views SimpleAggregateFunction(sum, UInt64),
        first_path AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
        first_origin AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
        first_referrer AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
        first_referrer_name AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
        first_referrer_type AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
        first_utm_source AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
        first_utm_medium AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
        first_utm_campaign AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
        first_utm_term AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
        first_utm_content AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
        first_device_type AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
        first_browser AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
        first_os AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
        first_country AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
        first_region AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
        first_city AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
        exit_path AggregateFunction(argMax, String, DateTime64(3, 'UTC'))
      )
      ENGINE = AggregatingMergeTree
      ORDER BY (account_id, session_id)
      TTL toDateTime(end) + INTERVAL {retentionDays} DAY
      SETTINGS non_replicated_deduplication_window = 1000`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS sessions_mv TO sessions AS
      SELECT account_id, session_id, max(anonymous_id) AS device_id, max(user_id) AS user_id,
        min(timestamp) AS start, max(timestamp) AS end, count() AS events,
        countIf(event_name IN ('screen_view', 'page_view', 'pageview')) AS page_views,
        argMinState(path, timestamp) AS first_path,
        argMinState(origin, timestamp) AS first_origin,
        argMinState(referrer, timestamp) AS first_referrer,
        argMinState(referrer_name, timestamp) AS first_referrer_name,
        argMinState(referrer_type, timestamp) AS first_referrer_type,
        argMinState(utm_source, timestamp) AS first_utm_source,
        argMinState(utm_medium, timestamp) AS first_utm_medium,
        argMinState(utm_campaign, timestamp) AS first_utm_campaign,
        argMinState(utm_term, timestamp) AS first_utm_term,
        argMinState(utm_content, timestamp) AS first_utm_content,
        argMinState(device_type, timestamp) AS first_device_type,
        argMinState(browser, timestamp) AS first_browser,
        argMinState(os, timestamp) AS first_os,
        argMinState(country, timestamp) AS first_country,
        argMinState(region, timestamp) AS first_region,
        argMinState(city, timestamp) AS first_city,
        argMaxStateIf(path, timestamp, path != '') AS exit_path
      FROM events
      WHERE session_id != '' AND is_bot = 0
      GROUP BY account_id, session_id`,
  ]),
});
