import {
  SESSION_DELTAS_TABLE,
  SESSION_LATEST_TABLE,
  SESSION_MOVES_TABLE,
  SESSION_ROLLUP_TABLE,
  SESSIONS_TABLE,
  PAGE_ROLLUP_TABLE,
  VISITOR_BITMAPS_TABLE,
  VISITOR_IDS_TABLE,
  VISITOR_REMOVALS_TABLE,
} from '../infrastructure/clickhouse/schema/tables.js';
import { FIRST_EVENT_FIELDS } from './session-tables.js';

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
 *
 * The tables and views are created by migrations 5, 8 and 10 (src/infrastructure/clickhouse/schema),
 * whose text is frozen; what stays here is what the writer runs. test/schema-migrations.test.ts
 * checks that SUMMARY_FIELDS are the tables' columns and that the rollup views write every
 * dimension the insights read.
 */

/** Who a session's visitor is: its device, else its user (over a session's partial rows). */
const SESSION_VISITOR = `if(max(device_id) != '', max(device_id), max(user_id))`;


const TIME = "DateTime64(3, 'UTC')";

/** Columns of a summary and their types, as the writer inserts them (session_deltas has `sign` too). */
export const SUMMARY_FIELDS: readonly (readonly [string, string])[] = [
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
const SUMMARY_NAMES = SUMMARY_FIELDS.map(([name]) => name).join(', ');

/** What filtered questions look at in a summary: its start and its first event's fields. */
export const FIRST_EVENT_COLUMNS = ['start', ...FIRST_EVENT_FIELDS.map((f) => `first_${f}`)];

/** Appended to a statement that reads every stored session (a rebuild). */
const UNBOUNDED = 'SETTINGS max_execution_time = 0';

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
 * Summaries of every stored session, after a bulk load that bypassed the writer (bench/insights):
 * the rollups and visitor ids are emptied and filled again from `sessions`, as migrations 5 and 8
 * did when they were frozen (they hold their own copy of these statements).
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
