import { rollupSelect } from '../infrastructure/clickhouse/schema/event-rollup.js';
import { METRIC_HOURS_TABLE, METRIC_SPANS_TABLE, ROLLUP_TABLE } from '../infrastructure/clickhouse/schema/tables.js';
import {
  accountRange,
  bindInstant,
  bucket,
  type BuiltQuery,
  epochMs,
  inRange,
  ParamBag,
  USER_KEY,
  withFill,
} from '../infrastructure/clickhouse/query/query-kit.js';
import { existsExpr, numberExpr, resolveField, textExpr } from './field-ref.js';
import { compileFilters } from './filter.compiler.js';
import { compileFormula, parseFormula, seriesNames } from './formula.js';
import type { Aggregation, MetricDataQuery, MetricDocument, SeriesSpec } from './metric.types.js';

/** The group key's separator and the key of the "other" group: control characters no UI sends. */
export const GROUP_SEPARATOR = '\u001f';
export const OTHER_GROUP = '\u001e';

/** The series of a metric: its own selection when it has no formula, else the formula's names. */
export function metricSeries(metric: MetricDocument): Map<string, SeriesSpec> {
  const series = new Map<string, SeriesSpec>();
  if (!metric.formula) {
    series.set('value', {
      eventName: metric.eventName,
      eventType: metric.eventType,
      aggregation: metric.type === 'histogram' ? 'count' : metric.aggregation,
      field: metric.field,
      precision: metric.precision,
    });
    return series;
  }
  for (const name of seriesNames(parseFormula(metric.formula))) {
    // A bare name counts the events of that name unless the series map defines it.
    // Own keys only: a formula may name `constructor` or `toString`.
    const defined = metric.series && Object.hasOwn(metric.series, name) ? metric.series[name] : undefined;
    series.set(name, defined ?? { eventName: name, aggregation: 'count' });
  }
  return series;
}

function uniqueTarget(field: string | undefined, bag: ParamBag): string {
  if (!field || field === 'users') return USER_KEY;
  if (field === 'sessions') return 'session_id';
  return textExpr(resolveField(field), bag);
}

/**
 * Every time zone has kept whole-minute UTC offsets since 1972 (Liberia was the last to drop
 * seconds), so from then on a minute of the rollup falls in exactly one bucket of any zone.
 */
const WHOLE_MINUTE_OFFSETS_SINCE = Date.UTC(1973, 0, 1);
const MINUTE = 60_000;

/**
 * Whether the per-minute rollup answers the query exactly: every series counts events or
 * unique users or sessions, selected by event name and type only (the rollup's keys), with no
 * groups, and the range holds at least one whole minute.
 */
export function rollupAnswers(metric: MetricDocument, q: MetricDataQuery): boolean {
  if (metric.type === 'histogram' || metric.filters.length > 0 || q.groupBy.length > 0) return false;
  if (q.from < WHOLE_MINUTE_OFFSETS_SINCE || Math.ceil(q.from / MINUTE) >= Math.floor(q.to / MINUTE)) return false;
  return [...metricSeries(metric).values()].every(
    (s) =>
      (s.filters ?? []).length === 0 &&
      (s.aggregation === 'count' || (s.aggregation === 'unique' && (!s.field || s.field === 'users' || s.field === 'sessions'))),
  );
}

const QUANTILE: Partial<Record<Aggregation, number>> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };

/** One series as an aggregate with an -If combinator, so every series of a formula comes from one scan. */
function aggregateSql(spec: SeriesSpec, condition: string, bag: ParamBag, rollup: boolean): string {
  if (rollup) {
    // The rollup's states already leave out empty user and session ids.
    if (spec.aggregation === 'count') return `toFloat64(sumIf(events, ${condition}))`;
    const states = spec.field === 'sessions' ? 'sessions' : 'users';
    if (spec.precision === 'approximate') return `toFloat64(uniqCombined64MergeIf(${states}_approx, ${condition}))`;
    return `toFloat64(uniqExactMergeIf(${states}, ${condition}))`;
  }
  const num = () => numberExpr(resolveField(spec.field!), bag);
  switch (spec.aggregation) {
    case 'count':
      return `toFloat64(countIf(${condition}))`;
    case 'sum':
      return `toFloat64(sumIf(${num()}, ${condition}))`;
    case 'avg':
      return `avgIfOrNull(${num()}, ${condition})`;
    case 'min':
      return `toFloat64(minIfOrNull(${num()}, ${condition}))`;
    case 'max':
      return `toFloat64(maxIfOrNull(${num()}, ${condition}))`;
    case 'unique': {
      const target = uniqueTarget(spec.field, bag);
      // The same function as the rollup's sketches, so raw rows and the rollup agree exactly.
      const uniq = spec.precision === 'approximate' ? 'uniqCombined64If' : 'uniqExactIf';
      return `toFloat64(${uniq}(${target}, ${condition} AND ${target} != ''))`;
    }
    default:
      // Linear interpolation between the closest ranks (like numpy's default, Excel's PERCENTILE.INC).
      return `quantileExactInclusiveIfOrNull(${QUANTILE[spec.aggregation]})(${num()}, ${condition})`;
  }
}

/**
 * The hourly state column of a single-series metric (migration 13's metric_hours) and how a raw
 * row set becomes it: the same function over the same argument as aggregateSql's raw aggregate,
 * so merged hours answer exactly what the raw rows do. A count needs none (the rows' count, `n`).
 * `merge(condition)` merges the rows' states (those meeting the condition, when given);
 * `mergeState` merges them into one state (a day's row from its hours').
 */
interface HourState {
  column: string;
  state: string;
  merge: (condition?: string) => string;
  mergeState: string;
  /** an empty state of the column's type: a row that needs no state carries it in a UNION */
  empty: string;
}

function hourState(spec: SeriesSpec, bag: ParamBag): HourState | null {
  const num = () => numberExpr(resolveField(spec.field!), bag);
  // `fn` with its parameters, e.g. quantileExactInclusive(0.95): -Merge, -MergeIf and -MergeState go before them.
  const of = (column: string, fn: string, state: string, params = '', float = true): HourState => ({
    column,
    state,
    empty: `arrayReduce('${fn}State${params}', CAST([], 'Array(${spec.aggregation === 'unique' ? 'String' : 'Nullable(Float64)'})'))`,
    merge: (condition) => {
      const call = condition ? `${fn}MergeIf${params}(${column}, ${condition})` : `${fn}Merge${params}(${column})`;
      return float ? `toFloat64(${call})` : call;
    },
    mergeState: `${fn}MergeState${params}(${column})`,
  });
  switch (spec.aggregation) {
    case 'count':
      return null;
    case 'sum':
      return of('sum_state', 'sum', `sumState(${num()})`);
    case 'avg':
      return of('avg_state', 'avg', `avgState(${num()})`, '', false);
    case 'min':
      return of('min_state', 'min', `minState(${num()})`);
    case 'max':
      return of('max_state', 'max', `maxState(${num()})`);
    case 'unique': {
      const target = uniqueTarget(spec.field, bag);
      const [fn, column] = spec.precision === 'approximate' ? ['uniqCombined64', 'uniq_approx'] : ['uniqExact', 'uniq_exact'];
      return of(column, fn, `${fn}StateIf(${target}, ${target} != '')`);
    }
    default: {
      const level = `(${QUANTILE[spec.aggregation]!})`;
      return of(`${spec.aggregation}_state`, 'quantileExactInclusive', `quantileExactInclusiveState${level}(${num()})`, level, false);
    }
  }
}

/**
 * How a bucket's value comes from rows of metric_hours: `states` merges the rows' states;
 * `values` reads the stored value of the one row every bucket has; `mixed` reads the value of a
 * row with whole = 1 (its bucket's only row) and merges the states of the other buckets.
 */
type HourMerge = 'states' | 'values' | 'mixed';

/**
 * A single-series metric's value over rows of metric_hours (`n`, `value` and its state column),
 * those meeting `only` when given.
 */
function hourMergeSql(spec: SeriesSpec, bag: ParamBag, how: HourMerge, only?: string): string {
  const state = hourState(spec, bag);
  const and = (condition: string) => (only ? `${condition} AND ${only}` : condition);
  if (!state) return only ? `toFloat64(sumIf(n, ${only}))` : 'toFloat64(sum(n))';
  if (how === 'values') return only ? `anyIf(value, ${only})` : 'any(value)';
  if (how === 'mixed') return `if(countIf(${and('whole = 1')}) > 0, anyIf(value, ${and('whole = 1')}), ${state.merge(and('whole = 0'))})`;
  return state.merge(only);
}

function seriesCondition(spec: SeriesSpec, bag: ParamBag): string {
  const parts: string[] = [];
  if (spec.eventName !== undefined) parts.push(`event_name = ${bag.bind(spec.eventName, 'String')}`);
  if (spec.eventType !== undefined) parts.push(`event_type = ${bag.bind(spec.eventType, 'String')}`);
  if (spec.field && spec.aggregation !== 'count' && spec.aggregation !== 'unique') {
    parts.push(existsExpr(resolveField(spec.field), bag));
  }
  parts.push(...compileFilters(spec.filters ?? [], bag));
  return parts.length > 0 ? parts.map((p) => `(${p})`).join(' AND ') : '1';
}

interface Parts {
  bag: ParamBag;
  /** the rows: FROM, PREWHERE and WHERE */
  source: string;
  /** the column a row's time bucket comes from */
  time: string;
  from: string;
  to: string;
  gkey: string;
  aggregates: string[];
  value: string;
  tz: string;
  /** From hourly states, for `both`: the single series' value over the whole range (its states merged). */
  rangeValue?: string;
}

/**
 * The shared pieces of a metric's queries: where the rows come from, global filters, the union
 * of the series' conditions, the group key, each series as an -If aggregate, and the metric's
 * value over them.
 *
 * Raw rows are read with the account, time range and event names in PREWHERE (the sort key's
 * prefix). When the rollup answers (`rollupAnswers`), the whole minutes of the range come from
 * it and the partial minutes at either end from raw rows turned into the same states.
 */
/**
 * How a query narrows its groups and where it reads: `topGroups` keeps those groups (the rest
 * become "other" when `keepOther`, else are dropped); `rollup` reads the per-minute rollup.
 */
export interface QueryOptions {
  topGroups?: string[];
  keepOther?: boolean;
  rollup?: boolean;
  /**
   * Read only these time windows (sorted, not overlapping) instead of [q.from, q.to): an alert
   * judges a window, the one before it and the same window of past weeks, in one scan. With
   * `rollup`, every window must be whole minutes.
   */
  windows?: TimeWindow[];
  /**
   * Read the whole UTC hours [from, to) from metric_hours under `key` (computed by hourFillQuery
   * for the same metric and groups), the rest of the range from raw rows. Single-series metrics
   * only; every bucket boundary of the query must be a whole UTC hour.
   */
  hours?: HourSpan;
}

/** Computed hours of a metric's states: [from, to) in epoch ms, whole UTC hours. */
export interface HourSpan {
  key: string;
  from: number;
  to: number;
  /** The whole UTC days of [from, to) whose rows merge their hours', when there are any. */
  days?: DaySpan;
  /** When the states of [from, to) merged per group (metric_spans) were computed, when they were. */
  merged?: number;
}

/** Computed days of a metric's states (rows under their own key, `hour` the day's start). */
export interface DaySpan {
  key: string;
  from: number;
  to: number;
  /** Whether a day's rows fall in one bucket of the query (its buckets are whole UTC days or more). */
  inBuckets: boolean;
}

/** A time window [from, to) in epoch ms. */
export interface TimeWindow {
  from: number;
  to: number;
}

/** Adjacent windows joined into contiguous spans, so the range condition has as few terms as it can. */
function spans(windows: TimeWindow[]): TimeWindow[] {
  const out: TimeWindow[] = [];
  for (const w of windows) {
    const last = out[out.length - 1];
    if (last && last.to === w.from) last.to = w.to;
    else out.push({ ...w });
  }
  return out;
}

/** `column` within any of `ranges` (bound instants), as one OR of ranges the primary key can use. */
function inRanges(bag: ParamBag, column: string, ranges: TimeWindow[], instant: (ms: number) => string): string {
  return ranges.map((r) => `(${inRange(column, instant(r.from), instant(r.to))})`).join(' OR ');
}

/** What every query of a metric selects: its account, event names, row condition, series and group key. */
interface Selection {
  account: string;
  /** ` AND event_name IN …` when every series names its events, else '' */
  byName: string;
  /** global filters and the union of the series' conditions */
  where: string;
  series: Map<string, SeriesSpec>;
  conditions: string[];
  /** the raw rows' group key ('' without groups) */
  gkey: string;
}

function selection(metric: MetricDocument, accountId: string, groupBy: string[], bag: ParamBag): Selection {
  const account = bag.bind(accountId, 'String');
  const series = metricSeries(metric);
  const names = [...series.values()].map((s) => s.eventName);
  // Every series names its events: only those rows are read (the sort key's third column).
  const byName = names.every((n) => n !== undefined) ? ` AND event_name IN ${bag.bind(names as string[], 'Array(String)')}` : '';
  const conditions = [...series.values()].map((spec) => seriesCondition(spec, bag));
  const filters = compileFilters(metric.filters, bag);
  const where = [...filters.map((f) => `(${f})`), `(${conditions.map((c) => `(${c})`).join(' OR ')})`].join(' AND ');
  let gkey = `''`;
  if (groupBy.length > 0) {
    const dims = groupBy.map((d) => textExpr(resolveField(d), bag));
    gkey = dims.length === 1 ? dims[0]! : `arrayStringConcat([${dims.join(', ')}], '${GROUP_SEPARATOR}')`;
  }
  return { account, byName, where, series, conditions, gkey };
}

const hourOf = (bag: ParamBag, ms: number) => `toDateTime(${bag.bind(Math.floor(ms / 1000), 'Int64')}, 'UTC')`;
const HOUR_OF_ROW = `toDateTime(toStartOfHour(timestamp), 'UTC')`;

/** One part of the rows a query from hourly states reads, and what it serves. */
interface HourRows {
  /** SELECT … FROM …, given its columns after `hour, g` */
  select: (columns: string) => string;
  points: boolean;
  totals: boolean;
  /** each row is its bucket's only one (in the points) */
  whole: boolean;
  raw?: boolean;
}

/**
 * The rows of a query from hourly states: the computed hours (or whole days, or the range's
 * merged states) from metric_hours and metric_spans, the rest of the range (partial and
 * unsealed hours) from raw rows turned into the same states. Each part is read where the points
 * or the totals need it; read for both (`reads` = 'both'), its rows say which (`fp`, `ft`).
 */
function hourRows(
  sel: Selection,
  bag: ParamBag,
  hours: HourSpan,
  o: { reads: 'points' | 'totals' | 'both'; how: HourMerge; wholeHours: boolean; wholeDays: boolean; from: string; to: string },
): string {
  const { account, byName, where } = sel;
  const spec = sel.series.get('value')!;
  const state = hourState(spec, bag);
  const { days, merged } = hours;
  const daysInPoints = days?.inBuckets === true;
  const stored = (table: string, time: string, key: string, range: string) => (columns: string) =>
    `SELECT ${time} AS hour, gkey AS g, ${columns} FROM ${table}${table === METRIC_HOURS_TABLE ? ' FINAL' : ''}
  WHERE account_id = ${account} AND cache_key = ${bag.bind(key, 'String')} AND (${range})`;
  const hoursOf = (range: string) => stored(METRIC_HOURS_TABLE, 'hour', hours.key, range);
  const [h0, h1] = [hourOf(bag, hours.from), hourOf(bag, hours.to)];
  const parts: HourRows[] = [];
  if (days) {
    const [d0, d1] = [hourOf(bag, days.from), hourOf(bag, days.to)];
    parts.push(
      { select: hoursOf(`hour >= ${d0} AND hour < ${d1}`), points: !daysInPoints, totals: false, whole: o.wholeHours },
      { select: hoursOf(`hour >= ${h0} AND hour < ${d0} OR hour >= ${d1} AND hour < ${h1}`), points: true, totals: merged === undefined, whole: o.wholeHours },
      { select: stored(METRIC_HOURS_TABLE, 'hour', days.key, `hour >= ${d0} AND hour < ${d1}`), points: daysInPoints, totals: merged === undefined, whole: o.wholeDays },
    );
  } else {
    parts.push({ select: hoursOf(`hour >= ${h0} AND hour < ${h1}`), points: true, totals: merged === undefined, whole: o.wholeHours });
  }
  if (merged !== undefined) {
    // The computed part of the range as one state per group.
    const span = `span_from = ${h0} AND span_to = ${h1} AND computed_at = ${bindInstant(bag, merged)}`;
    parts.push({ select: stored(METRIC_SPANS_TABLE, 'span_from', hours.key, span), points: false, totals: true, whole: false });
  }
  const edges = `${inRange('timestamp', o.from, bindInstant(bag, hours.from))} OR ${inRange('timestamp', bindInstant(bag, hours.to), o.to)}`;
  parts.push({
    select: (columns) => `SELECT ${HOUR_OF_ROW} AS hour, ${sel.gkey} AS g, ${columns}
  FROM events
  PREWHERE account_id = ${account} AND (${edges})${byName} AND is_bot = 0
  WHERE ${where}
  GROUP BY hour, g`,
    points: true,
    totals: true,
    whole: o.wholeHours,
    raw: true,
  });
  const read = parts.filter((r) => (o.reads !== 'totals' && r.points) || (o.reads !== 'points' && r.totals));
  const inPoints = (r: HourRows) => o.reads !== 'totals' && r.points;
  const inTotals = (r: HourRows) => o.reads !== 'points' && r.totals;
  // Points read a state unless they read stored values; totals always do.
  const needsState = (r: HourRows) => state !== null && (inTotals(r) || (inPoints(r) && (o.how === 'states' || (o.how === 'mixed' && !r.whole))));
  const withState = read.some(needsState);
  const withValue = o.reads !== 'totals' && o.how !== 'states';
  const columns = (r: HourRows) => {
    const c = [r.raw ? 'count() AS n' : 'n'];
    if (withState) c.push(!needsState(r) ? `${state!.empty} AS ${state!.column}` : r.raw ? `${state!.state} AS ${state!.column}` : state!.column);
    if (withValue) c.push(!inPoints(r) ? 'CAST(NULL, \'Nullable(Float64)\') AS value' : r.raw ? `${aggregateSql(spec, '1', bag, false)} AS value` : 'value');
    if (o.reads !== 'totals' && o.how === 'mixed') c.push(`${Number(r.whole)} AS whole`);
    if (o.reads === 'both') c.push(`${Number(inPoints(r))} AS fp`, `${Number(inTotals(r))} AS ft`);
    return c.join(', ');
  };
  return `(
  ${read.map((r) => r.select(columns(r))).join('\n  UNION ALL\n  ')}
)`;
}

/**
 * `reads`: what the query computes from the rows: the points (per time bucket), the totals
 * (over the whole range), or both at once (from hourly states: `rangeValue` is the total).
 */
function parts(metric: MetricDocument, accountId: string, q: MetricDataQuery, options: QueryOptions = {}, reads: 'points' | 'totals' | 'both' = 'totals'): Parts {
  const bucketed = reads !== 'totals';
  const { topGroups, keepOther = true, rollup: useRollup = false, windows, hours } = options;
  // Day rows stand for whole days: in a total, and in points whose buckets hold whole UTC days.
  const daysInBuckets = hours?.days?.inBuckets === true;
  // Rows alone in their bucket and group: every row (hourly rows and raw rows grouped by hour) in
  // an hourly series; day rows in a daily one. Not where the groups after the top ones fold into "other".
  const folding = q.groupBy.length > 0 && topGroups !== undefined && keepOther;
  const wholeHours = bucketed && !folding && q.interval === 'hour';
  const wholeDays = bucketed && !folding && q.interval === 'day' && daysInBuckets;
  // How the points merge (a state of an approximate unique count is 2^17 cells: reading values
  // only is much faster); totals merge states.
  const how: HourMerge = wholeHours && !daysInBuckets ? 'values' : wholeHours || wholeDays ? 'mixed' : 'states';
  const bag = new ParamBag();
  const tz = bag.bind(q.timezone, 'String');
  const from = bindInstant(bag, q.from);
  const to = bindInstant(bag, q.to);
  const sel = selection(metric, accountId, q.groupBy, bag);
  const { account, byName, where } = sel;
  const aliases = new Map<string, string>();
  const aggregates: string[] = [];
  let i = 0;
  for (const [name, spec] of sel.series) {
    const alias = `s${i}`;
    aliases.set(name, alias);
    const sql = !hours ? aggregateSql(spec, sel.conditions[i]!, bag, useRollup) : reads === 'totals' ? hourMergeSql(spec, bag, 'states') : hourMergeSql(spec, bag, how, reads === 'both' ? 'fp = 1' : undefined);
    aggregates.push(`${sql} AS ${alias}`);
    i++;
  }
  const value = metric.formula ? compileFormula(parseFormula(metric.formula), (n) => aliases.get(n)!) : 's0';
  const rangeValue = hours && reads === 'both' ? hourMergeSql(sel.series.get('value')!, bag, 'states', 'ft = 1') : undefined;
  // Hourly rows carry their group key as `g`.
  let gkey = hours && q.groupBy.length > 0 ? 'g' : sel.gkey;
  if (q.groupBy.length > 0 && topGroups) {
    const top = bag.bind(topGroups, 'Array(String)');
    gkey = keepOther ? `if(${gkey} IN ${top}, ${gkey}, '${OTHER_GROUP}')` : gkey;
  }
  const ranges = windows ? spans(windows) : undefined;
  const rawRange = ranges ? `account_id = ${account} AND (${inRanges(bag, 'timestamp', ranges, (ms) => bindInstant(bag, ms))})` : accountRange(account, 'timestamp', from, to);
  let source = `events
PREWHERE ${rawRange}${byName} AND is_bot = 0
WHERE ${where}`;
  if (hours) {
    source = hourRows(sel, bag, hours, { reads, how, wholeHours, wholeDays, from, to });
  } else if (useRollup && ranges) {
    // Whole-minute windows: the rollup alone answers them.
    const minute = (ms: number) => `toDateTime(${bag.bind(Math.floor(ms / 1000), 'Int64')}, 'UTC')`;
    source = `(
  SELECT ${ROLLUP_COLUMNS} FROM ${ROLLUP_TABLE}
  WHERE account_id = ${account} AND (${inRanges(bag, 'minute', ranges, minute)})${byName}
)
WHERE ${where}`;
  } else if (useRollup) {
    const fromMinute = `toDateTime(${bag.bind(Math.ceil(q.from / MINUTE) * 60, 'Int64')}, 'UTC')`;
    const toMinute = `toDateTime(${bag.bind(Math.floor(q.to / MINUTE) * 60, 'Int64')}, 'UTC')`;
    const partial = `account_id = ${account}${byName} AND (${inRange('timestamp', from, fromMinute)} OR ${inRange('timestamp', toMinute, to)})`;
    source = `(
  SELECT ${ROLLUP_COLUMNS} FROM ${ROLLUP_TABLE}
  WHERE ${accountRange(account, 'minute', fromMinute, toMinute)}${byName}
  UNION ALL
  SELECT ${ROLLUP_COLUMNS} FROM (${rollupSelect(partial)})
)
WHERE ${where}`;
  }
  return { bag, source, time: hours ? 'hour' : useRollup ? 'minute' : 'timestamp', from, to, gkey, aggregates, value, tz, rangeValue };
}

/**
 * Computes a single-series metric's states for the whole UTC hours of `spans` (sorted, not
 * overlapping, hour-aligned) grouped by `groupBy`, into metric_hours under `key`, as of
 * `computedAt` (the version a recomputed hour's rows replace older ones by). An hour without
 * matching events gets no rows.
 */
export function hourFillQuery(metric: MetricDocument, accountId: string, groupBy: string[], key: string, spans: TimeWindow[], computedAt: number): BuiltQuery {
  const bag = new ParamBag();
  const sel = selection(metric, accountId, groupBy, bag);
  const spec = sel.series.get('value')!;
  const state = hourState(spec, bag);
  const ranges = inRanges(bag, 'timestamp', spans, (ms) => bindInstant(bag, ms));
  // The value is the raw aggregate of the hour's rows, as the raw query computes it.
  return {
    sql: `INSERT INTO ${METRIC_HOURS_TABLE} (account_id, cache_key, hour, gkey, computed_at, n, value${state ? `, ${state.column}` : ''})
SELECT ${sel.account}, ${bag.bind(key, 'String')}, ${HOUR_OF_ROW} AS hour, ${sel.gkey} AS gkey, ${bindInstant(bag, computedAt)}, count(), ${aggregateSql(spec, '1', bag, false)}${state ? `, ${state.state}` : ''}
FROM events
PREWHERE account_id = ${sel.account} AND (${ranges})${sel.byName} AND is_bot = 0
WHERE ${sel.where}
GROUP BY hour, gkey`,
    params: bag.params,
  };
}

/**
 * Merges the computed hours (under `hourKey`) of the whole UTC days in `spans` into one row per
 * day and group, under `dayKey` (the day's start as its `hour`), as of `computedAt`. Its value
 * is the hours' states merged as the metric queries merge them.
 */
export function dayFillQuery(metric: MetricDocument, accountId: string, hourKey: string, dayKey: string, spans: TimeWindow[], computedAt: number): BuiltQuery {
  const bag = new ParamBag();
  const account = bag.bind(accountId, 'String');
  const spec = metricSeries(metric).get('value')!;
  const state = hourState(spec, bag);
  const ranges = inRanges(bag, 'hour', spans, (ms) => hourOf(bag, ms));
  return {
    sql: `INSERT INTO ${METRIC_HOURS_TABLE} (account_id, cache_key, hour, gkey, computed_at, n, value${state ? `, ${state.column}` : ''})
SELECT ${account}, ${bag.bind(dayKey, 'String')}, toStartOfDay(hour) AS day, gkey, ${bindInstant(bag, computedAt)}, sum(n), ${hourMergeSql(spec, bag, 'states')}${state ? `, ${state.mergeState}` : ''}
FROM ${METRIC_HOURS_TABLE} FINAL
WHERE account_id = ${account} AND cache_key = ${bag.bind(hourKey, 'String')} AND (${ranges})
GROUP BY day, gkey`,
    params: bag.params,
  };
}

/**
 * Merges a unique count's computed states of [hours.from, hours.to) (its days' rows and the
 * hours around them) into one state per group, into metric_spans as of `computedAt`.
 */
export function spanFillQuery(metric: MetricDocument, accountId: string, hours: HourSpan, computedAt: number): BuiltQuery {
  const bag = new ParamBag();
  const account = bag.bind(accountId, 'String');
  const state = hourState(metricSeries(metric).get('value')!, bag);
  if (!state || !mergesSpans(metric)) throw new Error('only unique counts keep merged spans');
  const [h0, h1] = [hourOf(bag, hours.from), hourOf(bag, hours.to)];
  const rows = (key: string, range: string) =>
    `SELECT gkey, n, ${state.column} FROM ${METRIC_HOURS_TABLE} FINAL WHERE account_id = ${account} AND cache_key = ${bag.bind(key, 'String')} AND (${range})`;
  let source = rows(hours.key, `hour >= ${h0} AND hour < ${h1}`);
  if (hours.days) {
    const [d0, d1] = [hourOf(bag, hours.days.from), hourOf(bag, hours.days.to)];
    source = `${rows(hours.key, `hour >= ${h0} AND hour < ${d0} OR hour >= ${d1} AND hour < ${h1}`)}
  UNION ALL
  ${rows(hours.days.key, `hour >= ${d0} AND hour < ${d1}`)}`;
  }
  return {
    sql: `INSERT INTO ${METRIC_SPANS_TABLE} (account_id, cache_key, span_from, span_to, computed_at, gkey, n, ${state.column})
SELECT ${account}, ${bag.bind(hours.key, 'String')}, ${h0}, ${h1}, ${bindInstant(bag, computedAt)}, gkey, sum(n), ${state.mergeState}
FROM (
  ${source}
)
GROUP BY gkey`,
    params: bag.params,
  };
}

/** Whether a metric's totals can read merged spans: a single unique count (its states grow with the users). */
export function mergesSpans(metric: MetricDocument): boolean {
  const spec = metricSeries(metric).get('value');
  return !metric.formula && metric.type !== 'histogram' && spec?.aggregation === 'unique';
}

/** How many groups the hours of `window` hold, at most, for a metric grouped by `groupBy`. */
export function hourGroupsQuery(metric: MetricDocument, accountId: string, groupBy: string[], window: TimeWindow): BuiltQuery {
  const bag = new ParamBag();
  const sel = selection(metric, accountId, groupBy, bag);
  return {
    sql: `SELECT max(groups) AS groups FROM (
  SELECT ${HOUR_OF_ROW} AS hour, uniqExact(${sel.gkey}) AS groups
  FROM events
  PREWHERE ${accountRange(sel.account, 'timestamp', bindInstant(bag, window.from), bindInstant(bag, window.to))}${sel.byName} AND is_bot = 0
  WHERE ${sel.where}
  GROUP BY hour
)`,
    params: bag.params,
  };
}

/** What the metric queries read of the rollup's rows (and of the partial minutes made like them). */
const ROLLUP_COLUMNS = 'minute, event_name, event_type, events, users, sessions, users_approx, sessions_approx';

/** Whether some series of the metric counts uniques approximately (the rollup's sketches must be backfilled). */
export function usesSketches(metric: MetricDocument): boolean {
  return [...metricSeries(metric).values()].some((s) => s.aggregation === 'unique' && s.precision === 'approximate');
}

/** Whether the rollup answers a metric over these windows exactly (see rollupAnswers). */
export function rollupAnswersWindows(metric: MetricDocument, windows: TimeWindow[]): boolean {
  if (windows.length === 0 || windows.some((w) => w.from % MINUTE !== 0 || w.to % MINUTE !== 0 || w.to <= w.from)) return false;
  const q = { from: windows[0]!.from, to: windows[windows.length - 1]!.to, groupBy: [] } as unknown as MetricDataQuery;
  return rollupAnswers(metric, q);
}

/**
 * The metric's value in each of `windows` (sorted, not overlapping), in one scan: rows `{w, value}`
 * where `w` is the window's index; a window without matching events has no row.
 */
export function windowsQuery(metric: MetricDocument, accountId: string, windows: TimeWindow[], options: { rollup: boolean }): BuiltQuery {
  const q: MetricDataQuery = { from: windows[0]!.from, to: windows[windows.length - 1]!.to, interval: 'minute', timezone: 'UTC', groupBy: [], other: false, fill: false };
  const p = parts(metric, accountId, q, { windows, rollup: options.rollup });
  const time = p.time === 'minute' ? (ms: number) => `toDateTime(${p.bag.bind(Math.floor(ms / 1000), 'Int64')}, 'UTC')` : (ms: number) => bindInstant(p.bag, ms);
  const which = windows.map((w, i) => `${inRange(p.time, time(w.from), time(w.to))}, ${i}`).join(', ');
  return {
    sql: `SELECT w, value FROM (
  SELECT multiIf(${which}, -1) AS w, ${p.aggregates.join(', ')}, ${p.value} AS value
  FROM ${p.source}
  GROUP BY w
) WHERE w >= 0`,
    params: p.bag.params,
  };
}

/** Groups ranked by the metric's value over the whole range (for `limit`). */
export function topGroupsQuery(metric: MetricDocument, accountId: string, q: MetricDataQuery, limit: number, options: QueryOptions = {}): BuiltQuery {
  const p = parts(metric, accountId, q, options);
  return {
    sql: `SELECT ${p.gkey} AS gkey, ${p.aggregates.join(', ')}, ${p.value} AS value
FROM ${p.source}
GROUP BY gkey
ORDER BY value DESC NULLS LAST, gkey
LIMIT ${p.bag.bind(limit, 'UInt32')}`,
    params: p.bag.params,
  };
}

/** Points: the value per bucket and group, zero-filled when asked (per group: sorting prefix). */
export function pointsQuery(metric: MetricDocument, accountId: string, q: MetricDataQuery, options: QueryOptions = {}): BuiltQuery {
  const { topGroups, keepOther = true } = options;
  const p = parts(metric, accountId, q, options, 'points');
  const topFilter = topGroups && !keepOther ? ` AND gkey IN ${p.bag.bind(topGroups, 'Array(String)')}` : '';
  const fill = q.fill ? ` ${withFill(q.interval, p.from, p.to, p.tz)}` : '';
  return {
    sql: `SELECT ${epochMs('bucket')} AS t, gkey, present, value FROM (
  SELECT ${bucket(q.interval, p.time, p.tz)} AS bucket, ${p.gkey} AS gkey, 1 AS present, ${p.aggregates.join(', ')}, ${p.value} AS value
  FROM ${p.source}
  GROUP BY bucket, gkey
  HAVING 1${topFilter}
  ORDER BY gkey, bucket${fill}
)`,
    params: p.bag.params,
  };
}

/**
 * A single-series metric's points and totals from its hourly states in one pass, every group
 * and no fill: rows `{t, gkey, range, overall, in_points, value}` where `range` = 1 marks a total
 * (of the group, or of every group when `overall` = 1), and a point with `in_points` = 0 is none
 * (a bucket of rows only the totals read). The partial and unsealed hours are read from raw
 * events once.
 */
export function pointsAndTotalsQuery(metric: MetricDocument, accountId: string, q: MetricDataQuery, hours: HourSpan): BuiltQuery {
  const p = parts(metric, accountId, q, { hours }, 'both');
  const sets = q.groupBy.length > 0 ? '(bucket, gkey), (gkey), ()' : '(bucket), ()';
  return {
    sql: `SELECT t, gkey, range, overall, in_points, if(range = 1, whole_range, ${p.value}) AS value FROM (
  SELECT ${bucket(q.interval, p.time, p.tz)} AS bucket, ${p.gkey} AS gkey, ${epochMs('bucket')} AS t, grouping(bucket) AS range,
    ${q.groupBy.length > 0 ? 'grouping(gkey)' : 'grouping(bucket)'} AS overall, countIf(fp = 1) AS in_points, ${p.aggregates.join(', ')}, ${p.rangeValue} AS whole_range
  FROM ${p.source}
  GROUP BY GROUPING SETS (${sets})
)`,
    params: p.bag.params,
  };
}

/**
 * Exact totals of a single-series metric over the whole range, per group and overall (ROLLUP),
 * plus, for a histogram, the count of values per bucket range.
 */
export function totalsQuery(metric: MetricDocument, accountId: string, q: MetricDataQuery, options: QueryOptions = {}): BuiltQuery {
  const { topGroups, keepOther = true } = options;
  const p = parts(metric, accountId, q, options);
  const histogram: string[] = [];
  if (metric.type === 'histogram' && metric.buckets && metric.field) {
    const v = numberExpr(resolveField(metric.field), p.bag);
    const edges = metric.buckets.map((e) => p.bag.bind(e, 'Float64'));
    histogram.push(`countIf(${v} < ${edges[0]}) AS h0`);
    edges.forEach((edge, i) => {
      const upper = edges[i + 1];
      histogram.push(`countIf(${v} >= ${edge}${upper ? ` AND ${v} < ${upper}` : ''}) AS h${i + 1}`);
    });
  }
  const topFilter = topGroups && !keepOther ? `HAVING gkey IN ${p.bag.bind(topGroups, 'Array(String)')} OR overall = 1` : '';
  const grouped = q.groupBy.length > 0;
  // Without groups there is one row, the overall one; with groups ROLLUP adds it.
  return {
    sql: `SELECT ${p.gkey} AS gkey, ${grouped ? 'grouping(gkey)' : '1'} AS overall, ${p.aggregates.join(', ')}, ${p.value} AS value${histogram.length ? `, ${histogram.join(', ')}` : ''}
FROM ${p.source}
${grouped ? `GROUP BY ROLLUP(gkey)
${topFilter}` : ''}`,
    params: p.bag.params,
  };
}
