import type { Migration } from '../infrastructure/clickhouse/migrator.js';
import { USER_KEY } from '../infrastructure/clickhouse/query/query-kit.js';
import {
  PAGE_KEY,
  PAGE_ROLLUP_TABLE,
  PAGE_TITLES_TABLE,
  pageTitleStatements,
  rebuildStatements,
  SESSION_LATEST_TABLE,
  SESSION_ROLLUP_TABLE,
  sessionsViewSelect,
  summaryTableStatements,
  SESSION_DELTAS_TABLE,
  SESSION_MOVES_TABLE,
  sessionMovesStatements,
  UNBOUNDED,
  OLD_VISITOR_ROLLUP_TABLE,
  VISITOR_BITMAPS_TABLE,
  VISITOR_REMOVALS_TABLE,
} from '../sessions/session-summaries.js';
import { DEVICE_SESSIONS_TABLE, IS_PAGE_VIEW, OLD_DEVICE_SESSIONS_TABLE, SESSIONS_TABLE, sessionTableStatements } from '../sessions/session-tables.js';

/** Events per account, minute, event name and type: counts and exact user and session sets. */
export const ROLLUP_TABLE = 'events_by_minute';

const ROLLUP_COLUMNS = `account_id, toStartOfMinute(timestamp) AS minute, event_name, event_type, count() AS events,
  uniqExactStateIf(${USER_KEY}, ${USER_KEY} != '') AS users, uniqExactStateIf(session_id, session_id != '') AS sessions`;
const ROLLUP_KEYS = 'account_id, minute, event_name, event_type';

/**
 * The rollup's rows for the events rows `where` keeps, bots left out. The view and the metric
 * queries' partial minutes share it, so their states are the same functions of the same rows.
 * Changing it needs a migration that points the view at the new text.
 */
export function rollupSelect(where?: string): string {
  return `SELECT ${ROLLUP_COLUMNS} FROM events WHERE is_bot = 0${where ? ` AND (${where})` : ''} GROUP BY ${ROLLUP_KEYS}`;
}

/**
 * The events table's migrations, numbered and never edited once shipped. The sort key starts
 * with the account (every query is scoped to one), then the day and event name that metric
 * and insight queries filter on. `non_replicated_deduplication_window` makes a retried insert
 * with the same insert_deduplication_token a no-op (ReplicatedMergeTree does this by default).
 */
export const EVENTS_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'create events',
    statements: ({ retentionDays }) => [
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
      TTL toDateTime(timestamp) + INTERVAL ${retentionDays} DAY
      SETTINGS non_replicated_deduplication_window = 1000`,
    ],
  },
  {
    version: 2,
    name: 'per-minute rollup of event counts, users and sessions',
    // The view feeds the rollup from every insert into events, block by block. A retried insert
    // (same deduplication token) is dropped by the rollup as by events: the view's blocks carry
    // tokens derived from the insert's (deduplicate_blocks_in_dependent_materialized_views),
    // which the rollup remembers as events does.
    // Rows stored before this migration are copied in first. That copy is exact when nothing
    // else writes meanwhile, which holds at boot: the ingest pipeline starts after migrations.
    // (A rolling upgrade with several writers should stop the others while the first boots.)
    // Every statement can run again after a crash: the copy starts from an empty rollup.
    statements: ({ retentionDays }) => [
      `CREATE TABLE IF NOT EXISTS ${ROLLUP_TABLE} (
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
      TTL minute + INTERVAL ${retentionDays} DAY
      SETTINGS non_replicated_deduplication_window = 1000`,
      `DROP VIEW IF EXISTS ${ROLLUP_TABLE}_mv`,
      `TRUNCATE TABLE ${ROLLUP_TABLE}`,
      `INSERT INTO ${ROLLUP_TABLE} SELECT ${ROLLUP_COLUMNS} FROM events GROUP BY ${ROLLUP_KEYS}`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${ROLLUP_TABLE}_mv TO ${ROLLUP_TABLE} AS SELECT ${ROLLUP_COLUMNS} FROM events GROUP BY ${ROLLUP_KEYS}`,
    ],
  },
  {
    version: 3,
    name: 'web context columns and bots kept out of the rollup',
    // Adding columns only changes metadata; rows stored before read them as empty strings and
    // 0 (not a bot). The view is switched atomically, so no insert is counted twice or missed.
    statements: () => [
      `ALTER TABLE events
        ${WEB_COLUMNS.map(([name, type]) => `ADD COLUMN IF NOT EXISTS ${name} ${type}`).join(',\n        ')}`,
      `ALTER TABLE ${ROLLUP_TABLE}_mv MODIFY QUERY ${rollupSelect()}`,
    ],
  },
  {
    version: 4,
    name: 'sessions: the assigner state and the materialized sessions',
    // Sessions are materialized from here on; events stored before have no assigned sessions.
    statements: ({ retentionDays }) => sessionTableStatements(retentionDays),
  },
  {
    version: 5,
    name: 'session summaries and the session, visitor and page rollups',
    // The sessions view also counts page views per page from here on; sessions stored before
    // get theirs from events (once: a session that has them is skipped on a re-run). Then
    // every stored session is summarized into emptied rollups, and page titles are copied.
    // Like version 2, exact when nothing else writes meanwhile, which holds at boot. The tables
    // and the rebuild are today's, so a new store gets the current shape here; version 8 brings
    // stores made by the earlier text there.
    statements: ({ retentionDays }) => [
      `ALTER TABLE ${SESSIONS_TABLE}
        ADD COLUMN IF NOT EXISTS pages SimpleAggregateFunction(sumMap, Tuple(Array(String), Array(UInt64)))`,
      `ALTER TABLE ${SESSIONS_TABLE}_mv MODIFY QUERY ${sessionsViewSelect()}`,
      `INSERT INTO ${SESSIONS_TABLE} (account_id, session_id, start, end, pages)
       SELECT account_id, session_id, min(timestamp), max(timestamp), sumMap([${PAGE_KEY}], [toUInt64(1)])
       FROM events
       WHERE session_id != '' AND is_bot = 0 AND ${IS_PAGE_VIEW}
         AND (account_id, session_id) NOT IN (SELECT account_id, session_id FROM ${SESSIONS_TABLE} WHERE notEmpty(pages.1))
       GROUP BY account_id, session_id
       ${UNBOUNDED}`,
      ...summaryTableStatements(retentionDays),
      ...rebuildStatements(),
      ...pageTitleStatements(retentionDays),
    ],
  },
  {
    version: 6,
    name: 'profile activity per 15 minutes, for retention',
    statements: ({ retentionDays }) =>
      copiedFromEvents(
        ACTIVITY_TABLE,
        `account_id LowCardinality(String),
        bucket DateTime('UTC'),
        profile UInt64`,
        `ENGINE = ReplacingMergeTree
      ORDER BY (account_id, bucket, profile)
      TTL bucket + INTERVAL ${retentionDays} DAY`,
        activitySelect(),
      ),
  },
  {
    version: 7,
    name: 'step events: each event as name, time and hashed profile and session, for funnels',
    statements: ({ retentionDays }) =>
      copiedFromEvents(
        STEP_EVENTS_TABLE,
        `account_id LowCardinality(String),
        event_name LowCardinality(String),
        timestamp DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
        profile UInt64,
        session UInt64`,
        `ENGINE = MergeTree
      PARTITION BY toYYYYMM(timestamp)
      ORDER BY (account_id, event_name, profile, timestamp)
      TTL toDateTime(timestamp) + INTERVAL ${retentionDays} DAY`,
        stepEventsSelect(),
      ),
  },
  {
    version: 8,
    name: 'dense visitor ids, and visitor bitmaps instead of the hashed visitor rollup',
    // The summaries gain the visitor's id; the hashed rollup goes; every stored session is
    // summarized again (as in version 5) with ids given out in order of first session.
    statements: ({ retentionDays }) => [
      ...[SESSION_DELTAS_TABLE, SESSION_LATEST_TABLE].map((t) => `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS visitor_id UInt32 AFTER visitor`),
      `DROP VIEW IF EXISTS ${OLD_VISITOR_ROLLUP_TABLE}_mv`,
      `DROP TABLE IF EXISTS ${OLD_VISITOR_ROLLUP_TABLE}`,
      ...summaryTableStatements(retentionDays),
      ...rebuildStatements(),
    ],
  },
  {
    version: 9,
    name: 'step firsts: the first time of each event name per profile and session and UTC day, for funnel entries',
    statements: ({ retentionDays }) =>
      copiedFromEvents(
        STEP_FIRSTS_TABLE,
        `account_id LowCardinality(String),
        event_name LowCardinality(String),
        kind Enum8('profile' = 1, 'session' = 2),
        entity UInt64,
        day Date,
        first SimpleAggregateFunction(min, DateTime64(3, 'UTC'))`,
        `ENGINE = AggregatingMergeTree
      PARTITION BY toYYYYMM(day)
      ORDER BY (account_id, event_name, kind, entity, day)
      TTL day + INTERVAL ${retentionDays} DAY`,
        stepFirstsSelect(),
      ),
  },
  {
    version: 10,
    name: 'session moves: the sessions whose first event changed, so filtered questions filter before FINAL',
    statements: ({ retentionDays }) => sessionMovesStatements(retentionDays),
  },
  {
    version: 11,
    name: 'the session assigner state kept for the retention and sorted by day, so late and historical events join their sessions',
    // device_sessions kept a session two days after its last event time, so the state of an
    // event more than two days old expired as it was written. The state is derived from the
    // stored sessions (those the assigner named: ses_ and 24 hex digits), so it is rebuilt from
    // them, which also gives back the state that had expired. Every statement can run again.
    statements: ({ retentionDays }) => [
      `CREATE TABLE IF NOT EXISTS ${DEVICE_SESSIONS_TABLE} (
        account_id LowCardinality(String),
        device_id String,
        session_id String,
        session_start DateTime64(3, 'UTC'),
        last_seen DateTime64(3, 'UTC'),
        INDEX idx_session_start session_start TYPE minmax GRANULARITY 1
      )
      ENGINE = ReplacingMergeTree
      ORDER BY (account_id, toDate(last_seen), device_id, session_id)
      TTL toDateTime(last_seen) + INTERVAL ${retentionDays} DAY`,
      `TRUNCATE TABLE ${DEVICE_SESSIONS_TABLE}`,
      `INSERT INTO ${DEVICE_SESSIONS_TABLE} (account_id, device_id, session_id, session_start, last_seen)
       SELECT account_id, max(device_id), session_id, min(start), max(end)
       FROM ${SESSIONS_TABLE}
       WHERE match(session_id, '^ses_[0-9a-f]{24}$')
       GROUP BY account_id, session_id
       HAVING max(device_id) != ''
       ${UNBOUNDED}`,
      `DROP TABLE IF EXISTS ${OLD_DEVICE_SESSIONS_TABLE}`,
    ],
  },
];

/**
 * A table fed by a view on events (or on a table a view on events fills), filled first with
 * what is stored: created, the view dropped (a re-run after a crash), emptied, copied into,
 * then the view created. Exact with one writer, which holds at boot.
 */
function copiedFromEvents(table: string, columns: string, engine: string, select: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
        ${columns}
      )
      ${engine}
      SETTINGS non_replicated_deduplication_window = 1000`,
    `DROP VIEW IF EXISTS ${table}_mv`,
    `TRUNCATE TABLE ${table}`,
    `INSERT INTO ${table} ${select} ${UNBOUNDED}`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${table}_mv TO ${table} AS ${select}`,
  ];
}

/**
 * Who was active when: each profile (user id, else anonymous id; a 64-bit hash) and the 15
 * minutes it had an event in, bots left out. Retention over any event reads it instead of the
 * events: a period of any interval in any zone is a whole number of 15-minute buckets.
 */
export const ACTIVITY_TABLE = 'profile_activity';

export function activitySelect(): string {
  return `SELECT DISTINCT account_id, toStartOfFifteenMinutes(timestamp) AS bucket, sipHash64(${USER_KEY}) AS profile
    FROM events WHERE is_bot = 0 AND ${USER_KEY} != ''`;
}

/**
 * Every event (bots left out) as its name, time, and its profile (user id, else anonymous id)
 * and session as 64-bit hashes (0: none). A funnel whose steps are event names alone reads this
 * instead of the events: no strings to read or hash per event. Sorted by name and profile, so a
 * profile's events sit together (grouping by profile is about a third faster than with the
 * events in time order); a month per partition keeps a range's read to the months it touches.
 * Exact duplicates (a batch stored twice) change no funnel, which folds first times.
 */
export const STEP_EVENTS_TABLE = 'step_events';

export function stepEventsSelect(): string {
  return `SELECT account_id, event_name, timestamp,
      if(${USER_KEY} != '', sipHash64(${USER_KEY}), 0) AS profile, if(session_id != '', sipHash64(session_id), 0) AS session
    FROM events WHERE is_bot = 0`;
}

/**
 * The first time of each event name per profile and per session (as step_events hashes them)
 * and UTC day. A funnel's entry is each entity's first step-1 event in the range: over the
 * range's whole UTC days that is the least of these, about a quarter of the rows of the events
 * themselves; the cut days at its ends come from step_events.
 */
export const STEP_FIRSTS_TABLE = 'step_firsts';

export function stepFirstsSelect(): string {
  return `SELECT account_id, event_name, kind, entity, toDate(timestamp) AS day, min(timestamp) AS first
    FROM (
      SELECT account_id, event_name, timestamp, arrayJoin([(toInt8(1), profile), (toInt8(2), session)]) AS pair, pair.1 AS kind, pair.2 AS entity
      FROM ${STEP_EVENTS_TABLE}
    )
    WHERE entity != 0
    GROUP BY account_id, event_name, kind, entity, day`;
}

/** Columns of web events: page, traffic source, place, and whether a bot sent it. */
const WEB_COLUMNS: [string, string][] = [
  ['origin', 'LowCardinality(String)'],
  ['path', 'String CODEC(ZSTD(1))'],
  ['title', 'String CODEC(ZSTD(3))'],
  ['referrer', 'String CODEC(ZSTD(1))'],
  ['referrer_name', 'LowCardinality(String)'],
  ['referrer_type', 'LowCardinality(String)'],
  ['utm_source', 'LowCardinality(String)'],
  ['utm_medium', 'LowCardinality(String)'],
  ['utm_campaign', 'LowCardinality(String)'],
  ['utm_term', 'LowCardinality(String)'],
  ['utm_content', 'LowCardinality(String)'],
  ['country', 'LowCardinality(String)'],
  ['region', 'LowCardinality(String)'],
  ['city', 'LowCardinality(String)'],
  ['is_bot', 'UInt8'],
];

/** The TTL clause RETENTION_DAYS asks for, per table, as ClickHouse prints it in engine_full. */
export function retentionTtls(retentionDays: number): Record<string, string> {
  return {
    events: `toDateTime(timestamp) + toIntervalDay(${retentionDays})`,
    [ROLLUP_TABLE]: `minute + toIntervalDay(${retentionDays})`,
    [SESSIONS_TABLE]: `toDateTime(end) + toIntervalDay(${retentionDays})`,
    [DEVICE_SESSIONS_TABLE]: `toDateTime(last_seen) + toIntervalDay(${retentionDays})`,
    [SESSION_LATEST_TABLE]: `toDateTime(end) + toIntervalDay(${retentionDays})`,
    [SESSION_ROLLUP_TABLE]: `bucket + toIntervalDay(${retentionDays})`,
    [VISITOR_BITMAPS_TABLE]: `bucket + toIntervalDay(${retentionDays})`,
    [VISITOR_REMOVALS_TABLE]: `bucket + toIntervalDay(${retentionDays})`,
    [PAGE_ROLLUP_TABLE]: `bucket + toIntervalDay(${retentionDays})`,
    [PAGE_TITLES_TABLE]: `toDateTime(last_seen) + toIntervalDay(${retentionDays})`,
    [ACTIVITY_TABLE]: `bucket + toIntervalDay(${retentionDays})`,
    [STEP_EVENTS_TABLE]: `toDateTime(timestamp) + toIntervalDay(${retentionDays})`,
    [STEP_FIRSTS_TABLE]: `day + toIntervalDay(${retentionDays})`,
    [SESSION_MOVES_TABLE]: `moved + toIntervalDay(${retentionDays})`,
  };
}
