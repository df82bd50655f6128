import { FIRST_EVENT_FIELDS, IS_PAGE_VIEW, SESSIONS_TABLE } from './session-tables.js';

/**
 * Session summaries and the rollups that make insights fast.
 *
 * `sessions` holds partial states (one row per session and insert), which a query must merge
 * per session: seconds over millions of sessions. So whenever a batch touches sessions, the
 * writer merges just those into their current summary and appends to `session_deltas` the
 * summary each had before (in `session_latest`) with sign -1 and the new one with sign +1, then
 * stores the new one in `session_latest` (a ReplacingMergeTree by version). Views add the
 * deltas up:
 *
 * - `session_rollup`: per 15 minutes of session start, per dimension value of the session's
 *   first event (and its exit page), sessions, bounces, duration and page views;
 * - `visitor_bitmaps`: per 15 minutes, the visitors with a session starting there, as a bitmap
 *   of dense visitor ids (`visitor_ids`, given out by the writer): a range's unique visitors are
 *   the union of its buckets' bitmaps, a few ms for millions of (visitor, bucket) pairs;
 * - `visitor_removals`: the (bucket, visitor) a session left (its start moved to another bucket,
 *   or its visitor changed). A bitmap cannot take a visitor out, so a query subtracts those of
 *   them without another session there; they are rare;
 * - `page_rollup`: per 15 minutes, per page, the sessions that viewed it and their figures;
 * - `session_moves` (written by the writer, not a view): the sessions whose first event changed
 *   (a late event came before it), so their summaries' start or first-event fields differ
 *   between versions. Every other session has the same start and first-event fields in all its
 *   versions, which lets a filtered question filter before FINAL (see insights-query.ts) and
 *   treat only these sessions the slow way.
 *
 * A session that changes (a later event, a late event before its start) is taken out where it
 * was counted and counted anew, so the sums are exact at every moment, open sessions included.
 * 15 minutes divide every time zone's offset, so local days and hours are whole buckets.
 */
export const SESSION_DELTAS_TABLE = 'session_deltas';
export const SESSION_LATEST_TABLE = 'session_latest';
export const SESSION_ROLLUP_TABLE = 'session_rollup';
export const VISITOR_IDS_TABLE = 'visitor_ids';
export const VISITOR_BITMAPS_TABLE = 'visitor_bitmaps';
export const VISITOR_REMOVALS_TABLE = 'visitor_removals';
export const PAGE_ROLLUP_TABLE = 'page_rollup';
export const PAGE_TITLES_TABLE = 'page_titles';
export const SESSION_MOVES_TABLE = 'session_moves';
/** The visitors' earlier rollup (a 64-bit hash per bucket), replaced by the bitmaps in migration 8. */
export const OLD_VISITOR_ROLLUP_TABLE = 'visitor_rollup';

/** Who a session's visitor is: its device, else its user (over a session's partial rows). */
const SESSION_VISITOR = `if(max(device_id) != '', max(device_id), max(user_id))`;

/** The rollups' bucket, in ms. */
export const BUCKET_MS = 15 * 60_000;

/** A page's key in the summaries: origin, NUL, path (an origin never holds a NUL). */
export const PAGE_KEY = `concat(origin, char(0), path)`;

/** The rollup's dimensions: a first-event field, or the exit page. */
const ROLLUP_DIMENSIONS = [...FIRST_EVENT_FIELDS, 'exit'] as const;

/**
 * The value stored for a dimension; referrer names carry their type after a NUL, so a breakdown
 * by name can show it (as OpenPanel's referrers do).
 */
function dimensionValue(d: (typeof ROLLUP_DIMENSIONS)[number]): string {
  if (d === 'exit') return 'exit_path';
  if (d === 'referrer_name') return `concat(first_referrer_name, char(0), first_referrer_type)`;
  return `first_${d}`;
}

const TIME = "DateTime64(3, 'UTC')";

/** Columns of a summary and their types (session_deltas has `sign` too). */
const SUMMARY_FIELDS: [string, string][] = [
  ['account_id', 'LowCardinality(String)'],
  ['session_id', 'String'],
  ['version', "DateTime64(6, 'UTC')"],
  ['visitor', 'String'],
  ['visitor_id', 'UInt32'],
  ['start', TIME],
  ['end', TIME],
  ['events', 'UInt64'],
  ['page_views', 'UInt64'],
  ...FIRST_EVENT_FIELDS.map((f): [string, string] => [`first_${f}`, 'String']),
  ['exit_path', 'String'],
  ['pages', 'Map(String, UInt64)'],
];
const SUMMARY_COLUMNS = SUMMARY_FIELDS.map(([name, type]) => `${name} ${type}`).join(',\n      ');
const SUMMARY_NAMES = SUMMARY_FIELDS.map(([name]) => name).join(', ');

// Qualified: the views' sums reuse the column names as aliases.
const column = (c: string) => `${SESSION_DELTAS_TABLE}.${c}`;
/** A session bounced: one page view and no other event. */
const BOUNCED = `toInt64(${column('events')} = 1 AND ${column('page_views')} = 1)`;
const DURATION = `dateDiff('millisecond', ${column('start')}, ${column('end')})`;
const VIEWS = `toInt64(${column('page_views')})`;
const BUCKET = `toStartOfFifteenMinutes(start)`;

/** What filtered questions look at in a summary: its start and its first event's fields. */
export const FIRST_EVENT_COLUMNS = ['start', ...FIRST_EVENT_FIELDS.map((f) => `first_${f}`)];

/** Appended to a statement that reads every stored event or session (a migration's copy). */
export const UNBOUNDED = 'SETTINGS max_execution_time = 0';

/** Tables and views; `retentionDays` keeps them as long as events. */
export function summaryTableStatements(retentionDays: number): string[] {
  const sums = `sessions Int64, bounces Int64, duration_ms Int64, page_views Int64`;
  // A rollup per account and 15-minute bucket: rows of the same key add up (SummingMergeTree).
  const rollupTable = (name: string, columns: string, key: string) => `CREATE TABLE IF NOT EXISTS ${name} (
      account_id LowCardinality(String),
      bucket DateTime('UTC'),
      ${columns}
    )
    ENGINE = SummingMergeTree
    ORDER BY (account_id, ${key})
    TTL bucket + INTERVAL ${retentionDays} DAY
    SETTINGS non_replicated_deduplication_window = 1000`;
  return [
    // The deltas are a log the views read at insert; a day of them is kept for inspection.
    `CREATE TABLE IF NOT EXISTS ${SESSION_DELTAS_TABLE} (
      ${SUMMARY_COLUMNS},
      sign Int8
    )
    ENGINE = MergeTree
    ORDER BY (account_id, session_id)
    TTL toDateTime(version) + INTERVAL 1 DAY
    SETTINGS non_replicated_deduplication_window = 1000`,
    `CREATE TABLE IF NOT EXISTS ${SESSION_LATEST_TABLE} (
      ${SUMMARY_COLUMNS}
    )
    ENGINE = ReplacingMergeTree(version)
    ORDER BY (account_id, session_id)
    TTL toDateTime(end) + INTERVAL ${retentionDays} DAY
    SETTINGS non_replicated_deduplication_window = 1000`,
    rollupTable(SESSION_ROLLUP_TABLE, `dimension LowCardinality(String), value String, ${sums}`, 'dimension, bucket, value'),
    rollupTable(PAGE_ROLLUP_TABLE, `page String, views Int64, ${sums}`, 'bucket, page'),
    // Dense ids from 1 per account, given out by the writer (one at a time, under the writer lock).
    `CREATE TABLE IF NOT EXISTS ${VISITOR_IDS_TABLE} (
      account_id LowCardinality(String),
      visitor String,
      id UInt32
    )
    ENGINE = ReplacingMergeTree
    ORDER BY (account_id, visitor)
    SETTINGS non_replicated_deduplication_window = 1000`,
    `CREATE TABLE IF NOT EXISTS ${VISITOR_BITMAPS_TABLE} (
      account_id LowCardinality(String),
      bucket DateTime('UTC'),
      visitors AggregateFunction(groupBitmap, UInt32)
    )
    ENGINE = AggregatingMergeTree
    ORDER BY (account_id, bucket)
    TTL bucket + INTERVAL ${retentionDays} DAY
    SETTINGS non_replicated_deduplication_window = 1000`,
    `CREATE TABLE IF NOT EXISTS ${VISITOR_REMOVALS_TABLE} (
      account_id LowCardinality(String),
      bucket DateTime('UTC'),
      visitor UInt32
    )
    ENGINE = MergeTree
    ORDER BY (account_id, bucket, visitor)
    TTL bucket + INTERVAL ${retentionDays} DAY
    SETTINGS non_replicated_deduplication_window = 1000`,
    `CREATE TABLE IF NOT EXISTS ${SESSION_MOVES_TABLE} (
      account_id LowCardinality(String),
      session_id String,
      moved DateTime('UTC')
    )
    ENGINE = ReplacingMergeTree
    ORDER BY (account_id, session_id)
    TTL moved + INTERVAL ${retentionDays} DAY
    SETTINGS non_replicated_deduplication_window = 1000`,
    // The empty dimension is the total. Within a block a -1 and +1 of the same key cancel out.
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${SESSION_ROLLUP_TABLE}_mv TO ${SESSION_ROLLUP_TABLE} AS
    SELECT account_id, d.1 AS dimension, ${BUCKET} AS bucket, d.2 AS value,
      sum(sign) AS sessions, sum(sign * ${BOUNCED}) AS bounces, sum(sign * ${DURATION}) AS duration_ms,
      sum(sign * ${VIEWS}) AS page_views
    FROM ${SESSION_DELTAS_TABLE}
    ARRAY JOIN [('', ''), ${ROLLUP_DIMENSIONS.map((d) => `('${d}', ${dimensionValue(d)})`).join(', ')}] AS d
    GROUP BY account_id, dimension, bucket, value`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${VISITOR_BITMAPS_TABLE}_mv TO ${VISITOR_BITMAPS_TABLE} AS
    SELECT account_id, ${BUCKET} AS bucket, groupBitmapState(visitor_id) AS visitors
    FROM ${SESSION_DELTAS_TABLE}
    WHERE sign > 0
    GROUP BY account_id, bucket`,
    // Per session, the (bucket, visitor) its deltas take out more than put in.
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${VISITOR_REMOVALS_TABLE}_mv TO ${VISITOR_REMOVALS_TABLE} AS
    SELECT account_id, bucket, visitor
    FROM (
      SELECT account_id, ${BUCKET} AS bucket, visitor_id AS visitor, sum(sign) AS net
      FROM ${SESSION_DELTAS_TABLE}
      GROUP BY account_id, session_id, bucket, visitor
    )
    WHERE net < 0`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${PAGE_ROLLUP_TABLE}_mv TO ${PAGE_ROLLUP_TABLE} AS
    SELECT account_id, ${BUCKET} AS bucket, p.1 AS page, sum(sign * toInt64(p.2)) AS views,
      sum(sign) AS sessions, sum(sign * ${BOUNCED}) AS bounces, sum(sign * ${DURATION}) AS duration_ms,
      sum(sign * ${VIEWS}) AS page_views
    FROM ${SESSION_DELTAS_TABLE}
    ARRAY JOIN CAST(pages, 'Array(Tuple(String, UInt64))') AS p
    GROUP BY account_id, bucket, page`,
  ];
}

/** Page titles (the last one seen), for the pages insight. */
export function pageTitleStatements(retentionDays: number): string[] {
  const select = `SELECT account_id, origin, path, anyLast(title) AS title, max(timestamp) AS last_seen
    FROM events WHERE ${IS_PAGE_VIEW} AND is_bot = 0 AND events.title != '' GROUP BY account_id, origin, path`;
  return [
    `CREATE TABLE IF NOT EXISTS ${PAGE_TITLES_TABLE} (
      account_id LowCardinality(String),
      origin LowCardinality(String),
      path String,
      title SimpleAggregateFunction(anyLast, String),
      last_seen SimpleAggregateFunction(max, ${TIME})
    )
    ENGINE = AggregatingMergeTree
    ORDER BY (account_id, origin, path)
    TTL toDateTime(last_seen) + INTERVAL ${retentionDays} DAY`,
    `DROP VIEW IF EXISTS ${PAGE_TITLES_TABLE}_mv`,
    `TRUNCATE TABLE ${PAGE_TITLES_TABLE}`,
    `INSERT INTO ${PAGE_TITLES_TABLE} ${select} ${UNBOUNDED}`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${PAGE_TITLES_TABLE}_mv TO ${PAGE_TITLES_TABLE} AS ${select}`,
  ];
}

/** The sessions view with each session's page views per page, for the page rollup. */
export function sessionsViewSelect(): string {
  return `SELECT account_id, session_id, max(anonymous_id) AS device_id, max(user_id) AS user_id,
      min(timestamp) AS start, max(timestamp) AS end, count() AS events,
      countIf(${IS_PAGE_VIEW}) AS page_views,
      ${FIRST_EVENT_FIELDS.map((f) => `argMinState(${f}, timestamp) AS first_${f},`).join('\n      ')}
      argMaxStateIf(path, timestamp, path != '') AS exit_path,
      sumMapIf([${PAGE_KEY}], [toUInt64(1)], ${IS_PAGE_VIEW}) AS pages
    FROM events
    WHERE session_id != '' AND is_bot = 0
    GROUP BY account_id, session_id`;
}

/**
 * The current summary of the sessions `where` selects (on `sessions`), merged from their
 * partial rows, as session_deltas rows with `sign`; `visitor_id` is left 0 for the writer (or
 * the rebuild) to look up.
 */
function freshSummaries(where: string): string {
  return `SELECT account_id, session_id, now64(6) AS version,
      ${SESSION_VISITOR} AS visitor, toUInt32(0) AS visitor_id,
      min(start) AS start, max(end) AS end, sum(events) AS events, sum(page_views) AS page_views,
      ${FIRST_EVENT_FIELDS.map((f) => `argMinMerge(first_${f}) AS first_${f},`).join('\n      ')}
      argMaxMerge(exit_path) AS exit_path,
      CAST(sumMap(pages), 'Map(String, UInt64)') AS pages,
      toInt8(1) AS sign
    FROM ${SESSIONS_TABLE}
    WHERE ${where}
    GROUP BY account_id, session_id`;
}

/**
 * The deltas of the sessions `where` selects: each one's latest summary taken out (sign -1), its
 * fresh one put in (+1). Sessions that did not change cancel out in the rollups.
 */
function deltasSelect(where: string): string {
  return `SELECT ${SUMMARY_NAMES}, sign FROM (${freshSummaries(where)})
    UNION ALL
    SELECT ${SUMMARY_NAMES.replace('version', 'now64(6) AS version')}, toInt8(-1) AS sign
    FROM ${SESSION_LATEST_TABLE} FINAL
    WHERE ${where}`;
}

/** The deltas of the given sessions of one account (bound as {account} and {ids}). */
export function summarizeQuery(): string {
  return deltasSelect(`account_id = {account:String} AND session_id IN {ids:Array(String)}`);
}

/** The id of each visitor in the account's `visitor_ids`, for the given visitors (bound as {visitors}). */
export function visitorIdsQuery(): string {
  return `SELECT visitor, any(id) AS id FROM ${VISITOR_IDS_TABLE}
    WHERE account_id = {account:String} AND visitor IN {visitors:Array(String)}
    GROUP BY visitor`;
}

/** The highest visitor id given out in the account (0: none yet). */
export function lastVisitorIdQuery(): string {
  return `SELECT max(id) AS id FROM ${VISITOR_IDS_TABLE} WHERE account_id = {account:String}`;
}

/**
 * Summaries of every stored session, for a migration or after a bulk load that bypassed the
 * writer: the rollups and visitor ids are emptied and filled again from `sessions`.
 */
export function rebuildStatements(): string[] {
  // Ids in order of each visitor's first session, as the writer would have given them out.
  const visitors = `SELECT account_id, visitor, toUInt32(row_number() OVER (PARTITION BY account_id ORDER BY first, visitor)) AS id
    FROM (
      SELECT account_id, visitor, min(start) AS first
      FROM (SELECT account_id, ${SESSION_VISITOR} AS visitor, min(start) AS start FROM ${SESSIONS_TABLE} GROUP BY account_id, session_id)
      GROUP BY account_id, visitor
    )`;
  const columns = SUMMARY_NAMES.split(', ').map((c) => (c === 'visitor_id' ? 'ids.id AS visitor_id' : `s.${c} AS ${c}`));
  const withIds = `SELECT ${columns.join(', ')}, s.sign AS sign
    FROM (${freshSummaries('1')}) AS s
    LEFT JOIN ${VISITOR_IDS_TABLE} AS ids ON ids.account_id = s.account_id AND ids.visitor = s.visitor`;
  const tables = [
    SESSION_DELTAS_TABLE,
    SESSION_LATEST_TABLE,
    SESSION_ROLLUP_TABLE,
    VISITOR_IDS_TABLE,
    VISITOR_BITMAPS_TABLE,
    VISITOR_REMOVALS_TABLE,
    PAGE_ROLLUP_TABLE,
    SESSION_MOVES_TABLE,
  ];
  return [
    ...tables.map((t) => `TRUNCATE TABLE ${t}`),
    `INSERT INTO ${VISITOR_IDS_TABLE} (account_id, visitor, id) ${visitors} ${UNBOUNDED}`,
    `INSERT INTO ${SESSION_DELTAS_TABLE} (${SUMMARY_NAMES}, sign) ${withIds} ${UNBOUNDED}`,
    `INSERT INTO ${SESSION_LATEST_TABLE} (${SUMMARY_NAMES}) SELECT ${SUMMARY_NAMES} FROM (${withIds}) ${UNBOUNDED}`,
  ];
}

/**
 * session_moves filled from the summaries stored before it: the sessions whose stored versions
 * (those a merge has not folded yet) differ in start or first event.
 */
export function sessionMovesStatements(retentionDays: number): string[] {
  return [
    ...summaryTableStatements(retentionDays),
    `TRUNCATE TABLE ${SESSION_MOVES_TABLE}`,
    `INSERT INTO ${SESSION_MOVES_TABLE} (account_id, session_id, moved)
    SELECT account_id, session_id, toDateTime(max(version))
    FROM ${SESSION_LATEST_TABLE}
    GROUP BY account_id, session_id
    HAVING uniqExact(cityHash64(${FIRST_EVENT_COLUMNS.join(', ')})) > 1
    ${UNBOUNDED}`,
  ];
}
