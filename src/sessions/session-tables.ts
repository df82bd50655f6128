/**
 * The session tables in the events store.
 *
 * `device_sessions_by_day` is the session assigner's state: per account, device and session, its
 * start and last event, kept as long as events (RETENTION_DAYS), so an event sent days late
 * still finds its session. Sorted by the day of the last event first, and with a minmax index on
 * the start, so the writer's lookup reads the days around its events, not the whole retention's
 * state: today's rows for live traffic (bench/session-state). Each save
 * writes a session's whole state (its start only moves back and its last event forward), and a
 * ReplacingMergeTree keeps the last one per day. It replaced `device_sessions` (migration 11),
 * whose two days were counted from the event time, so state of late events expired as it was
 * written. `sessions` is the
 * materialized state of every session, fed by a view on events: first and last event times,
 * counts, and the first event's page, traffic source and device, the last one's page. Each of
 * those is its own state column, so a query merges only the ones it reads.
 */
export const DEVICE_SESSIONS_TABLE = 'device_sessions_by_day';
/** The assigner's state before migration 11. */
export const OLD_DEVICE_SESSIONS_TABLE = 'device_sessions';
export const SESSIONS_TABLE = 'sessions';

/** Event names that are page views (OpenPanel's web SDK sends screen_view). */
const PAGE_VIEW_NAMES = ['screen_view', 'page_view', 'pageview'];

/** SQL: the event is a page view (fixed names, no user input). */
export const IS_PAGE_VIEW = `event_name IN (${PAGE_VIEW_NAMES.map((n) => `'${n}'`).join(', ')})`;

/** What a session keeps of its first event, each in its own `first_<field>` column. */
export const FIRST_EVENT_FIELDS = [
  'path',
  'origin',
  'referrer',
  'referrer_name',
  'referrer_type',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'device_type',
  'browser',
  'os',
  'country',
  'region',
  'city',
] as const;
export type FirstEventField = (typeof FIRST_EVENT_FIELDS)[number];

const TIME = "DateTime64(3, 'UTC')";

export function sessionTableStatements(retentionDays: number): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${OLD_DEVICE_SESSIONS_TABLE} (
      account_id LowCardinality(String),
      device_id String,
      session_id String,
      session_start ${TIME},
      last_seen ${TIME}
    )
    ENGINE = ReplacingMergeTree(last_seen)
    ORDER BY (account_id, device_id, session_id)
    TTL toDateTime(last_seen) + INTERVAL 2 DAY`,
    `CREATE TABLE IF NOT EXISTS ${SESSIONS_TABLE} (
      account_id LowCardinality(String),
      session_id String,
      device_id SimpleAggregateFunction(max, String),
      user_id SimpleAggregateFunction(max, String),
      start SimpleAggregateFunction(min, ${TIME}),
      end SimpleAggregateFunction(max, ${TIME}),
      events SimpleAggregateFunction(sum, UInt64),
      page_views SimpleAggregateFunction(sum, UInt64),
      ${FIRST_EVENT_FIELDS.map((f) => `first_${f} AggregateFunction(argMin, String, ${TIME}),`).join('\n      ')}
      exit_path AggregateFunction(argMax, String, ${TIME})
    )
    ENGINE = AggregatingMergeTree
    ORDER BY (account_id, session_id)
    TTL toDateTime(end) + INTERVAL ${retentionDays} DAY
    SETTINGS non_replicated_deduplication_window = 1000`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${SESSIONS_TABLE}_mv TO ${SESSIONS_TABLE} AS
    SELECT account_id, session_id, max(anonymous_id) AS device_id, max(user_id) AS user_id,
      min(timestamp) AS start, max(timestamp) AS end, count() AS events,
      countIf(${IS_PAGE_VIEW}) AS page_views,
      ${FIRST_EVENT_FIELDS.map((f) => `argMinState(${f}, timestamp) AS first_${f},`).join('\n      ')}
      argMaxStateIf(path, timestamp, path != '') AS exit_path
    FROM events
    WHERE session_id != '' AND is_bot = 0
    GROUP BY account_id, session_id`,
  ];
}
