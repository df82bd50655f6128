import { bindInstant, type BuiltQuery, inRange, ParamBag } from '../infrastructure/clickhouse/query/query-kit.js';
import {
  PAGE_ROLLUP_TABLE,
  SESSION_LATEST_TABLE,
  SESSION_ROLLUP_TABLE,
  VISITOR_BITMAPS_TABLE,
  VISITOR_REMOVALS_TABLE,
  BUCKET_MS,
} from '../infrastructure/clickhouse/schema/tables.js';
import { DIMENSIONS, figureGroups, figureRows } from './insights-query.js';
import type { InsightsRange } from './insights-range.js';

/**
 * Insights without filters, read from the session rollups (see session-summaries.ts) instead of
 * merging every session: whole 15-minute buckets come from the rollups; a bucket cut by a bound
 * of the range (`lastHour`, a custom time) comes from the latest summaries of the sessions that
 * started in it, so answers are exact for any bounds. Each source yields rows with `t` (the
 * bucket, or the session's start) that the range conditions and interval buckets apply to.
 */

const floorBucket = (t: number) => Math.floor(t / BUCKET_MS) * BUCKET_MS;

/** Where the rows of [cuts[0], cuts.at(-1)) come from, given every bound a query compares with. */
interface Plan {
  /** Whole buckets: [from, to) minus `partial`. */
  from: number;
  to: number;
  /** Starts of buckets a bound cuts, read from the session summaries. */
  partial: number[];
}

function plan(cuts: number[], everyBucketPartial = false): Plan {
  const first = cuts[0]!;
  const last = cuts.at(-1)!;
  let partial = [...new Set(cuts.filter((c) => c % BUCKET_MS !== 0).map(floorBucket))];
  if (everyBucketPartial) {
    partial = [];
    for (let b = floorBucket(first); b < last; b += BUCKET_MS) partial.push(b);
  }
  return { from: first, to: last, partial };
}

/** The condition on a rollup's `bucket` that keeps the plan's whole buckets. */
function wholeBuckets(bag: ParamBag, p: Plan): string {
  const skip = p.partial.length > 0 ? ` AND bucket NOT IN ${bag.bind(p.partial.map((b) => b / 1000), 'Array(UInt32)')}` : '';
  return `bucket >= toDateTime(${bag.bind(Math.ceil(p.from / BUCKET_MS) * (BUCKET_MS / 1000), 'UInt32')}, 'UTC')
    AND bucket < toDateTime(${bag.bind(Math.floor(p.to / BUCKET_MS) * (BUCKET_MS / 1000), 'UInt32')}, 'UTC')${skip}`;
}

/**
 * The latest summary of each session of the account that started in the plan's partial buckets
 * (and in [from, to)): `columns` (expressions over a summary, with aliases) and `t`. A summary
 * found by an older version is kept only if its latest one still starts there.
 */
function partialSessions(bag: ParamBag, account: string, p: Plan, columns: string[]): string | undefined {
  if (p.partial.length === 0) return undefined;
  const inPartial = (x: string) =>
    `(${inRange(x, bindInstant(bag, p.from), bindInstant(bag, p.to))} AND toUInt32(toStartOfFifteenMinutes(${x})) IN ${bag.bind(
      p.partial.map((b) => b / 1000),
      'Array(UInt32)',
    )})`;
  // Qualified: the figures' aliases reuse column names.
  const latest = (c: string) => `argMax(${SESSION_LATEST_TABLE}.${c}, ${SESSION_LATEST_TABLE}.version)`;
  return `SELECT ${latest('start')} AS t${columns.map((c) => `, ${c.replace(/\{(\w+)\}/g, (_, col: string) => latest(col))}`).join('')}
    FROM ${SESSION_LATEST_TABLE}
    WHERE account_id = ${account} AND session_id IN (
      SELECT session_id FROM ${SESSION_LATEST_TABLE} WHERE account_id = ${account} AND ${inPartial('start')})
    GROUP BY session_id
    HAVING ${inPartial('t')}`;
}

// Figures of a partial session, from its summary ({column} is the latest value of the column).
const SESSION_FIGURES = [
  'toInt64(1) AS sessions',
  'toInt64({events} = 1 AND {page_views} = 1) AS bounces',
  "dateDiff('millisecond', {start}, {end}) AS duration_ms",
  'toInt64({page_views}) AS page_views',
];

/** Rows (t, sessions, bounces, duration_ms, page_views[, value]) of one rollup dimension. */
function sessionRows(bag: ParamBag, account: string, p: Plan, dimension: string, value?: string): string {
  const rolled = `SELECT toDateTime64(bucket, 3, 'UTC') AS t, sessions, bounces, duration_ms, page_views${value ? ', value' : ''}
    FROM ${SESSION_ROLLUP_TABLE}
    WHERE account_id = ${account} AND dimension = ${bag.bind(dimension, 'String')} AND ${wholeBuckets(bag, p)}`;
  const partial = partialSessions(bag, account, p, [...SESSION_FIGURES, ...(value ? [`${value} AS value`] : [])]);
  return partial ? `${rolled}\n    UNION ALL\n    ${partial}` : rolled;
}

/** An empty bitmap of visitor ids. */
const NO_VISITORS = `arrayReduce('groupBitmapState', CAST([], 'Array(UInt32)'))`;

/**
 * Rows (g, visitors): per group (`groups` gives the array of groups a bucket or a partial
 * session starting at `t` counts in), its unique visitors. That is the union of its whole buckets' bitmaps, less the visitors a
 * session left in one of them (visitor_removals) that have no session left in any of them,
 * plus the visitors of its partial buckets' sessions. `removals: false` (none in the plan's
 * buckets, see removalsQuery) leaves the subtraction out.
 */
function visitorCounts(bag: ParamBag, account: string, p: Plan, groups: (t: string) => string, removals: boolean): string {
  const whole = wholeBuckets(bag, p);
  const t = `toDateTime64(bucket, 3, 'UTC')`;
  const removed = `SELECT bucket, visitor FROM ${VISITOR_REMOVALS_TABLE} WHERE account_id = ${account} AND ${whole}`;
  // Where the removed visitors' sessions start now, by their latest summaries.
  const latest = (c: string) => `argMax(${SESSION_LATEST_TABLE}.${c}, ${SESSION_LATEST_TABLE}.version)`;
  const stayed = `SELECT toDateTime(toStartOfFifteenMinutes(${latest('start')}), 'UTC') AS stayed_bucket, ${latest('visitor_id')} AS stayed_visitor
      FROM ${SESSION_LATEST_TABLE}
      WHERE account_id = ${account} AND session_id IN (
        SELECT session_id FROM ${SESSION_LATEST_TABLE}
        WHERE account_id = ${account} AND visitor_id IN (SELECT visitor FROM (${removed})))
      GROUP BY session_id`;
  const gone = `SELECT arrayJoin(${groups(t)}) AS g, visitor FROM (
        SELECT bucket, visitor, 0 AS stays FROM (${removed})
        UNION ALL
        SELECT bucket, visitor, 1 AS stays FROM (SELECT stayed_bucket AS bucket, stayed_visitor AS visitor FROM (${stayed})) WHERE ${whole})
      GROUP BY g, visitor
      HAVING max(stays) = 0`;
  const partial = partialSessions(bag, account, p, ['{visitor_id} AS visitor']);
  const sources = [
    `SELECT arrayJoin(${groups(t)}) AS g, groupBitmapMergeState(visitors) AS whole, ${NO_VISITORS} AS gone, ${NO_VISITORS} AS partial
      FROM ${VISITOR_BITMAPS_TABLE} WHERE account_id = ${account} AND ${whole} GROUP BY g`,
    ...(removals ? [`SELECT g, ${NO_VISITORS}, groupBitmapState(visitor), ${NO_VISITORS} FROM (${gone}) GROUP BY g`] : []),
    ...(partial ? [`SELECT arrayJoin(${groups('t')}) AS g, ${NO_VISITORS}, ${NO_VISITORS}, groupBitmapState(visitor) FROM (${partial}) GROUP BY g`] : []),
  ];
  return `SELECT g, bitmapCardinality(bitmapOr(bitmapAndnot(groupBitmapMergeState(whole), groupBitmapMergeState(gone)),
      groupBitmapMergeState(partial))) AS visitors
    FROM (${sources.join('\n    UNION ALL\n    ')})
    GROUP BY g`;
}

/**
 * Whether any session left a visitor in [from, to)'s buckets (`removed`: 1 or 0). Usually none
 * did, and the figures' query can leave out the subtraction, a good part of its time. Checked
 * just before that query: a visitor removed in between counts as in an answer a moment earlier.
 */
export function removalsQuery(accountId: string, from: number, to: number): BuiltQuery {
  const bag = new ParamBag();
  return {
    sql: `SELECT count() > 0 AS removed FROM (
  SELECT 1 FROM ${VISITOR_REMOVALS_TABLE}
  WHERE account_id = ${bag.bind(accountId, 'String')} AND ${wholeBuckets(bag, plan([from, to]))}
  LIMIT 1)`,
    params: bag.params,
  };
}

/**
 * The figures per group of figureGroups() (the series, and with `withPeriods` the range and the
 * span before it) in one query: each bucket's sums and bitmap count in every group it belongs to.
 */
export function rollupFiguresQuery(accountId: string, range: InsightsRange, withPeriods: boolean, removals = true): BuiltQuery {
  const bag = new ParamBag();
  const account = bag.bind(accountId, 'String');
  const groups = figureGroups(bag, range, withPeriods);
  // Minutes split a rollup bucket: those come from the summaries throughout.
  const p = plan([groups.first, range.from, range.to], range.interval === 'minute');
  // A group's sums can be 0 when its sessions all moved to another bucket.
  const per = (x: string, then = '') => `round(if(n = 0, 0, ${x} / n${then}), 2)`;
  return {
    sql: figureRows(
      groups,
      `SELECT g, n AS total_sessions, v.visitors AS unique_visitors, views AS total_screen_views, ${per('100 * bounces')} AS bounce_rate,
      ${per('duration_ms', ' / 1000')} AS avg_session_duration, ${per('views')} AS views_per_session
    FROM (
      SELECT arrayJoin(${groups.groups('t')}) AS g, sum(sessions) AS n, sum(bounces) AS bounces, sum(duration_ms) AS duration_ms, sum(page_views) AS views
      FROM (${sessionRows(bag, account, p, '')})
      GROUP BY g
    ) AS s
    LEFT JOIN (${visitorCounts(bag, account, p, groups.groups, removals)}) AS v USING g`,
    ),
    params: bag.params,
  };
}

/** The rollup dimension of an insights dimension (a first-event column, or `exit`). */
const rollupDimension = (d: string) => (d === 'exit' ? 'exit' : DIMENSIONS[d]!);
/** The same value from a session summary ({column}: the latest value of the column). */
const summaryValue = (d: string) =>
  d === 'exit' ? '{exit_path}' : d === 'referrer_name' ? 'concat({first_referrer_name}, char(0), {first_referrer_type})' : `{first_${DIMENSIONS[d]}}`;

/**
 * Sessions per value of a dimension of their first event (or `exit` page), top `limit`. For
 * referrer names, `type` is the referrer type (stored after the name, see session-summaries.ts).
 */
export function rollupBreakdownQuery(accountId: string, range: InsightsRange, dimension: string, limit: number): BuiltQuery {
  const bag = new ParamBag();
  const account = bag.bind(accountId, 'String');
  const p = plan([range.from, range.to]);
  // Per value first (a value whose sessions all moved elsewhere sums to 0 and has no type to
  // lend); a referrer name shows its most frequent type.
  const [name, type] =
    dimension === 'referrer_name'
      ? ['splitByChar(char(0), value)[1]', ', argMax(splitByChar(char(0), value)[2], n) AS type']
      : ['value', ''];
  return {
    sql: `SELECT ${name} AS name${type}, sum(n) AS sessions,
  round(100 * sum(b) / sessions, 2) AS bounce_rate,
  round(sum(d) / sessions / 1000, 2) AS avg_session_duration
FROM (
  SELECT value, sum(sessions) AS n, sum(bounces) AS b, sum(duration_ms) AS d
  FROM (${sessionRows(bag, account, p, rollupDimension(dimension), summaryValue(dimension))})
  GROUP BY value
  HAVING n != 0
)
GROUP BY name
ORDER BY sessions DESC, name
LIMIT ${bag.bind(limit, 'UInt32')}`,
    params: bag.params,
  };
}

/** Top pages by the sessions (started in the range) that viewed them, with those sessions' figures. */
export function rollupPagesQuery(accountId: string, range: InsightsRange, limit: number): BuiltQuery {
  const bag = new ParamBag();
  const account = bag.bind(accountId, 'String');
  const p = plan([range.from, range.to]);
  const rolled = `SELECT page, views, sessions, bounces, duration_ms FROM ${PAGE_ROLLUP_TABLE}
    WHERE account_id = ${account} AND ${wholeBuckets(bag, p)}`;
  const partial = partialSessions(bag, account, p, [
    ...SESSION_FIGURES,
    "CAST({pages}, 'Array(Tuple(String, UInt64))') AS viewed",
  ]);
  const rows = partial
    ? `${rolled}
    UNION ALL
    SELECT pv.1 AS page, toInt64(pv.2) AS views, sessions, bounces, duration_ms FROM (${partial}) ARRAY JOIN viewed AS pv`
    : rolled;
  return {
    sql: `SELECT splitByChar(char(0), page)[1] AS origin, splitByChar(char(0), page)[2] AS path, sum(sessions) AS sessions,
    sum(views) AS screen_views, round(100 * sum(bounces) / sessions, 2) AS bounce_rate,
    round(sum(duration_ms) / sessions / 1000, 2) AS avg_duration
  FROM (${rows})
  GROUP BY page
  HAVING sessions > 0
  ORDER BY sessions DESC, path
  LIMIT ${bag.bind(limit, 'UInt32')}`,
    params: bag.params,
  };
}
