import { bindInstant, bucket, type BuiltQuery, epochMs, inRange, ParamBag, withFill } from '../infrastructure/clickhouse/query/query-kit.js';
import { EVENTS_TABLE, PAGE_TITLES_TABLE, SESSION_LATEST_TABLE, SESSION_MOVES_TABLE } from '../infrastructure/clickhouse/schema/tables.js';
import { filterSql, type InsightsFilter } from './insights-filters.js';
import type { InsightsRange } from './insights-range.js';

/** Dimensions insights can filter and break down by, and their events column. */
export const DIMENSIONS: Record<string, string> = {
  path: 'path',
  origin: 'origin',
  referrer: 'referrer',
  referrer_name: 'referrer_name',
  referrer_type: 'referrer_type',
  utm_source: 'utm_source',
  utm_medium: 'utm_medium',
  utm_campaign: 'utm_campaign',
  utm_term: 'utm_term',
  utm_content: 'utm_content',
  device: 'device_type',
  browser: 'browser',
  os: 'os',
  country: 'country',
  region: 'region',
  city: 'city',
};
export const DIMENSION_NAMES = Object.keys(DIMENSIONS);

/** A session's dimension: its first event's, merged as `f_<column>` (the exit page is `x_path`). */
const sessionDimension = (name: string) => `f_${DIMENSIONS[name]}`;

/**
 * Every session of the account that started in [from, to), as its latest summary (see
 * session-summaries.ts), kept by the filters on its first event: s_start, s_end, s_events,
 * s_views, s_visitor (the visitor's dense id: one per visitor, and a quarter of the string's
 * bytes to read and count), and what the query needs of `dimensions` and the filters' as
 * f_<column>, the exit page as x_path, the page views per page (`pages`) as x_pages.
 *
 * FINAL keeps each session's newest version. The range and filters look only at the start and
 * the first event, which all versions of a session share unless its first event changed: such
 * sessions are in session_moves. So the others are filtered before FINAL (PREWHERE), which then
 * merges just the sessions kept (a third to a fifth of the time for a selective filter, and its
 * page maps are read for those alone); the moved ones are merged first and filtered after, as
 * their newest version may no longer match (they are found through the primary key).
 */
function sessionsIn(
  bag: ParamBag,
  accountId: string,
  from: number,
  to: number,
  filters: InsightsFilter[],
  dimensions: string[] = [],
): string {
  const account = bag.bind(accountId, 'String');
  const conditions = [
    inRange('start', bindInstant(bag, from), bindInstant(bag, to)),
    ...filters.map((f) => filterSql(f, `first_${DIMENSIONS[f.name]}`, bag)),
  ].join(' AND ');
  const columns = [...new Set(dimensions)].map((d) =>
    d === 'exit'
      ? `exit_path AS x_path`
      : d === 'pages'
        ? `CAST(pages, 'Array(Tuple(String, UInt64))') AS x_pages`
        : `first_${DIMENSIONS[d]} AS ${sessionDimension(d)}`,
  );
  const select = `SELECT session_id, start AS s_start, end AS s_end, events AS s_events, page_views AS s_views, visitor_id AS s_visitor${columns
    .map((c) => `, ${c}`)
    .join('')}
  FROM ${SESSION_LATEST_TABLE} FINAL`;
  const moved = `SELECT session_id FROM ${SESSION_MOVES_TABLE} WHERE account_id = ${account}`;
  return `${select}
  PREWHERE account_id = ${account} AND ${conditions}
  WHERE session_id NOT IN (${moved})
  UNION ALL
  ${select}
  WHERE account_id = ${account} AND session_id IN (${moved}) AND ${conditions}`;
}

/** The session-based figures of a group of sessions (never empty), OpenPanel's names. */
const SESSION_FIGURES = `count() AS total_sessions,
  uniqExact(s_visitor) AS unique_visitors,
  sum(s_views) AS total_screen_views,
  round(100 * countIf(s_views = 1 AND s_events = 1) / total_sessions, 2) AS bounce_rate,
  round(avg(dateDiff('millisecond', s_start, s_end)) / 1000, 2) AS avg_session_duration,
  round(total_screen_views / total_sessions, 2) AS views_per_session`;

/**
 * Figures come per group (period, bucket): the series has period '' and the interval bucket;
 * with `withPeriods`, the range is also one group ('current', bucket 0) and the span just before
 * it another ('previous', bucket 0). `groups(t)` is the array of groups a session starting at `t`
 * counts in (a query arrayJoins it), `first` the earliest start that counts in any.
 */
export interface FigureGroups {
  first: number;
  groups: (t: string) => string;
  /** Orders the rows (`period`, `bucket`) with every series bucket of the range, empty ones filled. */
  order: string;
}

/** The earliest start that counts in a group of figureGroups(). */
export const firstStart = (range: InsightsRange, withPeriods: boolean) => (withPeriods ? range.from - (range.to - range.from) : range.from);

export function figureGroups(bag: ParamBag, range: InsightsRange, withPeriods: boolean): FigureGroups {
  const tz = bag.bind(range.timezone, 'String');
  const from = bindInstant(bag, range.from);
  const to = bindInstant(bag, range.to);
  const group = (period: string, at: string) => `(${bag.bind(period, 'String')}, ${at})`;
  const series = (t: string) => group('', bucket(range.interval, t, tz));
  const whole = (period: string) => group(period, `toDateTime(0, ${tz})`);
  return {
    first: firstStart(range, withPeriods),
    groups: withPeriods
      ? (t) => `if(${t} >= ${from}, [${series(t)}, ${whole('current')}], [${whole('previous')}])`
      : (t) => `[${series(t)}]`,
    order: `ORDER BY bucket ${withFill(range.interval, from, to, tz)}, period`,
  };
}

/**
 * Rows (period, t in ms, figures) of `grouped` (rows `g`, figures, one per group): the series
 * buckets in order, empty ones filled, after the periods' rows. The fill happens inside, so `t`
 * is computed from filled buckets too.
 */
export function figureRows(groups: FigureGroups, grouped: string): string {
  return `SELECT period, ${epochMs('bucket')} AS t, * EXCEPT (period, bucket)
FROM (
  SELECT g.1 AS period, g.2 AS bucket, * EXCEPT g FROM (${grouped})
  ${groups.order}
)
ORDER BY t, period`;
}

/** The figures of the range's sessions kept by the filters, per group of figureGroups(). */
export function figuresQuery(accountId: string, range: InsightsRange, filters: InsightsFilter[], withPeriods: boolean): BuiltQuery {
  const bag = new ParamBag();
  const groups = figureGroups(bag, range, withPeriods);
  return {
    sql: figureRows(
      groups,
      `SELECT arrayJoin(${groups.groups('s_start')}) AS g, ${SESSION_FIGURES}
    FROM (${sessionsIn(bag, accountId, groups.first, range.to, filters)})
    GROUP BY g`,
    ),
    params: bag.params,
  };
}

/**
 * Sessions per value of a dimension of their first event (or `exit` page), top `limit`;
 * `alongside` adds a first-event dimension per row under a name (referrers show their type).
 */
export function breakdownQuery(
  accountId: string,
  range: InsightsRange,
  filters: InsightsFilter[],
  dimension: string,
  limit: number,
  alongside: Record<string, string> = {},
): BuiltQuery {
  const bag = new ParamBag();
  const name = dimension === 'exit' ? 'x_path' : sessionDimension(dimension);
  const extra = Object.entries(alongside).map(([as, d]) => `any(${sessionDimension(d)}) AS ${as}, `).join('');
  const dimensions = [dimension, ...Object.values(alongside)];
  return {
    sql: `SELECT ${name} AS name, ${extra}count() AS sessions,
  round(100 * countIf(s_views = 1 AND s_events = 1) / count(), 2) AS bounce_rate,
  round(avg(dateDiff('millisecond', s_start, s_end)) / 1000, 2) AS avg_session_duration
FROM (${sessionsIn(bag, accountId, range.from, range.to, filters, dimensions)})
GROUP BY name
ORDER BY sessions DESC, name
LIMIT ${bag.bind(limit, 'UInt32')}`,
    params: bag.params,
  };
}

/**
 * Top pages by the sessions (started in the range, kept by the filters) that viewed them: their
 * page views there, bounce rate and average duration.
 */
export function pagesQuery(accountId: string, range: InsightsRange, filters: InsightsFilter[], limit: number): BuiltQuery {
  const bag = new ParamBag();
  return {
    sql: `SELECT splitByChar(char(0), pv.1)[1] AS origin, splitByChar(char(0), pv.1)[2] AS path, count() AS sessions,
    sum(pv.2) AS screen_views, round(100 * countIf(s_views = 1 AND s_events = 1) / count(), 2) AS bounce_rate,
    round(avg(dateDiff('millisecond', s_start, s_end)) / 1000, 2) AS avg_duration
  FROM (${sessionsIn(bag, accountId, range.from, range.to, filters, ['pages'])})
  ARRAY JOIN x_pages AS pv
  GROUP BY origin, path
  ORDER BY sessions DESC, path
  LIMIT ${bag.bind(limit, 'UInt32')}`,
    params: bag.params,
  };
}

/**
 * The last seen title of each of the given pages (rows origin, path, title). Asked after the top
 * pages are known, so their query runs once (a CTE read twice would run it twice).
 */
export function pageTitlesQuery(accountId: string, pages: { origin: string; path: string }[]): BuiltQuery {
  const bag = new ParamBag();
  const origins = bag.bind(pages.map((p) => p.origin), 'Array(String)');
  const paths = bag.bind(pages.map((p) => p.path), 'Array(String)');
  return {
    sql: `SELECT origin, path, anyLast(title) AS title FROM ${PAGE_TITLES_TABLE}
WHERE account_id = ${bag.bind(accountId, 'String')} AND origin IN ${origins} AND path IN ${paths} AND has(arrayZip(${origins}, ${paths}), (origin, path))
GROUP BY origin, path`,
    params: bag.params,
  };
}

/** Unique visitors with an event in the last `minutes` minutes. */
export function liveQuery(accountId: string, now: number, minutes: number): BuiltQuery {
  const bag = new ParamBag();
  return {
    sql: `SELECT uniqExact(if(anonymous_id != '', anonymous_id, user_id)) AS visitors
FROM ${EVENTS_TABLE}
PREWHERE account_id = ${bag.bind(accountId, 'String')} AND timestamp >= ${bindInstant(bag, now - minutes * 60_000)} AND is_bot = 0
WHERE anonymous_id != '' OR user_id != ''`,
    params: bag.params,
  };
}
