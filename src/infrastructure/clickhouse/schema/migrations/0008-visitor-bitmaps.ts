/**
 * Migration 8: dense visitor ids, and visitor bitmaps instead of the hashed visitor rollup.
 *
 * SHIPPED: NEVER EDIT THIS FILE. A store that ran it keeps what it made (CREATE … IF NOT EXISTS
 * leaves it alone), so an edit would reach new stores only, and they would differ from upgraded
 * ones. A fix or a change is a new migration with the next number. `{retentionDays}` (RETENTION_DAYS)
 * is the only parameter; the migrator substitutes it when it applies the statements.
 *
 * Dense visitor ids, and visitor bitmaps instead of the hashed visitor rollup. The summaries gain
 * the visitor's id; the hashed rollup goes; every stored session is summarized again (as in
 * version 5) with ids given out in order of first session. The summary tables' statements repeat
 * version 5's (IF NOT EXISTS: they create what a store made by 5's earlier text lacked).
 */
import type { Migration } from '../../migrator.js';

export const MIGRATION_0008: Migration = Object.freeze({
  version: 8,
  name: 'dense visitor ids, and visitor bitmaps instead of the hashed visitor rollup',
  statements: Object.freeze([
    `ALTER TABLE session_deltas ADD COLUMN IF NOT EXISTS visitor_id UInt32 AFTER visitor`,
    `ALTER TABLE session_latest ADD COLUMN IF NOT EXISTS visitor_id UInt32 AFTER visitor`,
    `DROP VIEW IF EXISTS visitor_rollup_mv`,
    `DROP TABLE IF EXISTS visitor_rollup`,
    `CREATE TABLE IF NOT EXISTS session_deltas (
        account_id LowCardinality(String),
        session_id String,
        version DateTime64(6, 'UTC'),
        visitor String,
        visitor_id UInt32,
        start DateTime64(3, 'UTC'),
        end DateTime64(3, 'UTC'),
        events UInt64,
        page_views UInt64,
        first_path String,
        first_origin String,
        first_referrer String,
        first_referrer_name String,
        first_referrer_type String,
        first_utm_source String,
        first_utm_medium String,
        first_utm_campaign String,
        first_utm_term String,
        first_utm_content String,
        first_device_type String,
        first_browser String,
        first_os String,
        first_country String,
        first_region String,
        first_city String,
        exit_path String,
        pages Map(String, UInt64),
        sign Int8
      )
      ENGINE = MergeTree
      ORDER BY (account_id, session_id)
      TTL toDateTime(version) + INTERVAL 1 DAY
      SETTINGS non_replicated_deduplication_window = 1000`,
    `CREATE TABLE IF NOT EXISTS session_latest (
        account_id LowCardinality(String),
        session_id String,
        version DateTime64(6, 'UTC'),
        visitor String,
        visitor_id UInt32,
        start DateTime64(3, 'UTC'),
        end DateTime64(3, 'UTC'),
        events UInt64,
        page_views UInt64,
        first_path String,
        first_origin String,
        first_referrer String,
        first_referrer_name String,
        first_referrer_type String,
        first_utm_source String,
        first_utm_medium String,
        first_utm_campaign String,
        first_utm_term String,
        first_utm_content String,
        first_device_type String,
        first_browser String,
        first_os String,
        first_country String,
        first_region String,
        first_city String,
        exit_path String,
        pages Map(String, UInt64)
      )
      ENGINE = ReplacingMergeTree(version)
      ORDER BY (account_id, session_id)
      TTL toDateTime(end) + INTERVAL {retentionDays} DAY
      SETTINGS non_replicated_deduplication_window = 1000`,
    `CREATE TABLE IF NOT EXISTS session_rollup (
        account_id LowCardinality(String),
        bucket DateTime('UTC'),
        dimension LowCardinality(String),
        value String,
        sessions Int64,
        bounces Int64,
        duration_ms Int64,
        page_views Int64
      )
      ENGINE = SummingMergeTree
      ORDER BY (account_id, dimension, bucket, value)
      TTL bucket + INTERVAL {retentionDays} DAY
      SETTINGS non_replicated_deduplication_window = 1000`,
    `CREATE TABLE IF NOT EXISTS page_rollup (
        account_id LowCardinality(String),
        bucket DateTime('UTC'),
        page String,
        views Int64,
        sessions Int64,
        bounces Int64,
        duration_ms Int64,
        page_views Int64
      )
      ENGINE = SummingMergeTree
      ORDER BY (account_id, bucket, page)
      TTL bucket + INTERVAL {retentionDays} DAY
      SETTINGS non_replicated_deduplication_window = 1000`,
    `CREATE TABLE IF NOT EXISTS visitor_ids (
        account_id LowCardinality(String),
        visitor String,
        id UInt32
      )
      ENGINE = ReplacingMergeTree
      ORDER BY (account_id, visitor)
      SETTINGS non_replicated_deduplication_window = 1000`,
    `CREATE TABLE IF NOT EXISTS visitor_bitmaps (
        account_id LowCardinality(String),
        bucket DateTime('UTC'),
        visitors AggregateFunction(groupBitmap, UInt32)
      )
      ENGINE = AggregatingMergeTree
      ORDER BY (account_id, bucket)
      TTL bucket + INTERVAL {retentionDays} DAY
      SETTINGS non_replicated_deduplication_window = 1000`,
    `CREATE TABLE IF NOT EXISTS visitor_removals (
        account_id LowCardinality(String),
        bucket DateTime('UTC'),
        visitor UInt32
      )
      ENGINE = MergeTree
      ORDER BY (account_id, bucket, visitor)
      TTL bucket + INTERVAL {retentionDays} DAY
      SETTINGS non_replicated_deduplication_window = 1000`,
    `CREATE TABLE IF NOT EXISTS session_moves (
        account_id LowCardinality(String),
        session_id String,
        moved DateTime('UTC')
      )
      ENGINE = ReplacingMergeTree
      ORDER BY (account_id, session_id)
      TTL moved + INTERVAL {retentionDays} DAY
      SETTINGS non_replicated_deduplication_window = 1000`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS session_rollup_mv TO session_rollup AS
      SELECT account_id, d.1 AS dimension, toStartOfFifteenMinutes(start) AS bucket, d.2 AS value,
        sum(sign) AS sessions,
        sum(sign * toInt64(session_deltas.events = 1 AND session_deltas.page_views = 1)) AS bounces,
        sum(sign * dateDiff('millisecond', session_deltas.start, session_deltas.end)) AS duration_ms,
        sum(sign * toInt64(session_deltas.page_views)) AS page_views
      FROM session_deltas
      ARRAY JOIN [
        ('', ''), ('path', first_path), ('origin', first_origin), ('referrer', first_referrer),
        ('referrer_name', concat(first_referrer_name, char(0), first_referrer_type)), ('referrer_type', first_referrer_type),
        ('utm_source', first_utm_source), ('utm_medium', first_utm_medium), ('utm_campaign', first_utm_campaign),
        ('utm_term', first_utm_term), ('utm_content', first_utm_content), ('device_type', first_device_type),
        ('browser', first_browser), ('os', first_os), ('country', first_country), ('region', first_region), ('city', first_city),
        ('exit', exit_path)
      ] AS d
      GROUP BY account_id, dimension, bucket, value`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS visitor_bitmaps_mv TO visitor_bitmaps AS
      SELECT account_id, toStartOfFifteenMinutes(start) AS bucket, groupBitmapState(visitor_id) AS visitors
      FROM session_deltas
      WHERE sign > 0
      GROUP BY account_id, bucket`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS visitor_removals_mv TO visitor_removals AS
      SELECT account_id, bucket, visitor
      FROM (
        SELECT account_id, toStartOfFifteenMinutes(start) AS bucket, visitor_id AS visitor, sum(sign) AS net
        FROM session_deltas
        GROUP BY account_id, session_id, bucket, visitor
      )
      WHERE net < 0`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS page_rollup_mv TO page_rollup AS
      SELECT account_id, toStartOfFifteenMinutes(start) AS bucket, p.1 AS page, sum(sign * toInt64(p.2)) AS views,
        sum(sign) AS sessions,
        sum(sign * toInt64(session_deltas.events = 1 AND session_deltas.page_views = 1)) AS bounces,
        sum(sign * dateDiff('millisecond', session_deltas.start, session_deltas.end)) AS duration_ms,
        sum(sign * toInt64(session_deltas.page_views)) AS page_views
      FROM session_deltas
      ARRAY JOIN CAST(pages, 'Array(Tuple(String, UInt64))') AS p
      GROUP BY account_id, bucket, page`,
    `TRUNCATE TABLE session_deltas`,
    `TRUNCATE TABLE session_latest`,
    `TRUNCATE TABLE session_rollup`,
    `TRUNCATE TABLE visitor_ids`,
    `TRUNCATE TABLE visitor_bitmaps`,
    `TRUNCATE TABLE visitor_removals`,
    `TRUNCATE TABLE page_rollup`,
    `TRUNCATE TABLE session_moves`,
    `INSERT INTO visitor_ids (account_id, visitor, id)
      SELECT account_id, visitor, toUInt32(row_number() OVER (PARTITION BY account_id ORDER BY first, visitor)) AS id
      FROM (
        SELECT account_id, visitor, min(start) AS first
        FROM (
          SELECT account_id, if(max(device_id) != '', max(device_id), max(user_id)) AS visitor, min(start) AS start
          FROM sessions
          GROUP BY account_id, session_id
        )
        GROUP BY account_id, visitor
      )
      SETTINGS max_execution_time = 0`,
    `INSERT INTO session_deltas (
        account_id, session_id, version, visitor, visitor_id, start, end, events, page_views,
        first_path, first_origin, first_referrer, first_referrer_name, first_referrer_type,
        first_utm_source, first_utm_medium, first_utm_campaign, first_utm_term, first_utm_content,
        first_device_type, first_browser, first_os, first_country, first_region, first_city,
        exit_path, pages, sign
      )
      SELECT
        s.account_id AS account_id, s.session_id AS session_id, s.version AS version, s.visitor AS visitor,
        ids.id AS visitor_id, s.start AS start, s.end AS end, s.events AS events, s.page_views AS page_views,
        s.first_path AS first_path, s.first_origin AS first_origin, s.first_referrer AS first_referrer,
        s.first_referrer_name AS first_referrer_name, s.first_referrer_type AS first_referrer_type,
        s.first_utm_source AS first_utm_source, s.first_utm_medium AS first_utm_medium,
        s.first_utm_campaign AS first_utm_campaign, s.first_utm_term AS first_utm_term, s.first_utm_content AS first_utm_content,
        s.first_device_type AS first_device_type, s.first_browser AS first_browser, s.first_os AS first_os,
        s.first_country AS first_country, s.first_region AS first_region, s.first_city AS first_city,
        s.exit_path AS exit_path, s.pages AS pages, s.sign AS sign
      FROM (
        SELECT account_id, session_id, now64(6) AS version,
          if(max(device_id) != '', max(device_id), max(user_id)) AS visitor, toUInt32(0) AS visitor_id,
          min(start) AS start, max(end) AS end, sum(events) AS events, sum(page_views) AS page_views,
          argMinMerge(first_path) AS first_path,
          argMinMerge(first_origin) AS first_origin,
          argMinMerge(first_referrer) AS first_referrer,
          argMinMerge(first_referrer_name) AS first_referrer_name,
          argMinMerge(first_referrer_type) AS first_referrer_type,
          argMinMerge(first_utm_source) AS first_utm_source,
          argMinMerge(first_utm_medium) AS first_utm_medium,
          argMinMerge(first_utm_campaign) AS first_utm_campaign,
          argMinMerge(first_utm_term) AS first_utm_term,
          argMinMerge(first_utm_content) AS first_utm_content,
          argMinMerge(first_device_type) AS first_device_type,
          argMinMerge(first_browser) AS first_browser,
          argMinMerge(first_os) AS first_os,
          argMinMerge(first_country) AS first_country,
          argMinMerge(first_region) AS first_region,
          argMinMerge(first_city) AS first_city,
          argMaxMerge(exit_path) AS exit_path,
          CAST(sumMap(pages), 'Map(String, UInt64)') AS pages,
          toInt8(1) AS sign
        FROM sessions
        WHERE 1
        GROUP BY account_id, session_id
      ) AS s
      LEFT JOIN visitor_ids AS ids ON ids.account_id = s.account_id AND ids.visitor = s.visitor
      SETTINGS max_execution_time = 0`,
    `INSERT INTO session_latest (
        account_id, session_id, version, visitor, visitor_id, start, end, events, page_views,
        first_path, first_origin, first_referrer, first_referrer_name, first_referrer_type,
        first_utm_source, first_utm_medium, first_utm_campaign, first_utm_term, first_utm_content,
        first_device_type, first_browser, first_os, first_country, first_region, first_city,
        exit_path, pages
      )
      SELECT
        account_id, session_id, version, visitor, visitor_id, start, end, events, page_views,
        first_path, first_origin, first_referrer, first_referrer_name, first_referrer_type,
        first_utm_source, first_utm_medium, first_utm_campaign, first_utm_term, first_utm_content,
        first_device_type, first_browser, first_os, first_country, first_region, first_city,
        exit_path, pages
      FROM (
        SELECT
          s.account_id AS account_id, s.session_id AS session_id, s.version AS version, s.visitor AS visitor,
          ids.id AS visitor_id, s.start AS start, s.end AS end, s.events AS events, s.page_views AS page_views,
          s.first_path AS first_path, s.first_origin AS first_origin, s.first_referrer AS first_referrer,
          s.first_referrer_name AS first_referrer_name, s.first_referrer_type AS first_referrer_type,
          s.first_utm_source AS first_utm_source, s.first_utm_medium AS first_utm_medium,
          s.first_utm_campaign AS first_utm_campaign, s.first_utm_term AS first_utm_term, s.first_utm_content AS first_utm_content,
          s.first_device_type AS first_device_type, s.first_browser AS first_browser, s.first_os AS first_os,
          s.first_country AS first_country, s.first_region AS first_region, s.first_city AS first_city,
          s.exit_path AS exit_path, s.pages AS pages, s.sign AS sign
        FROM (
          SELECT account_id, session_id, now64(6) AS version,
            if(max(device_id) != '', max(device_id), max(user_id)) AS visitor, toUInt32(0) AS visitor_id,
            min(start) AS start, max(end) AS end, sum(events) AS events, sum(page_views) AS page_views,
            argMinMerge(first_path) AS first_path,
            argMinMerge(first_origin) AS first_origin,
            argMinMerge(first_referrer) AS first_referrer,
            argMinMerge(first_referrer_name) AS first_referrer_name,
            argMinMerge(first_referrer_type) AS first_referrer_type,
            argMinMerge(first_utm_source) AS first_utm_source,
            argMinMerge(first_utm_medium) AS first_utm_medium,
            argMinMerge(first_utm_campaign) AS first_utm_campaign,
            argMinMerge(first_utm_term) AS first_utm_term,
            argMinMerge(first_utm_content) AS first_utm_content,
            argMinMerge(first_device_type) AS first_device_type,
            argMinMerge(first_browser) AS first_browser,
            argMinMerge(first_os) AS first_os,
            argMinMerge(first_country) AS first_country,
            argMinMerge(first_region) AS first_region,
            argMinMerge(first_city) AS first_city,
            argMaxMerge(exit_path) AS exit_path,
            CAST(sumMap(pages), 'Map(String, UInt64)') AS pages,
            toInt8(1) AS sign
          FROM sessions
          WHERE 1
          GROUP BY account_id, session_id
        ) AS s
        LEFT JOIN visitor_ids AS ids ON ids.account_id = s.account_id AND ids.visitor = s.visitor
      )
      SETTINGS max_execution_time = 0`,
  ]),
});
