import { ACTIVITY_TABLE, EVENTS_TABLE, STEP_EVENTS_TABLE, STEP_FIRSTS_TABLE } from '../infrastructure/clickhouse/schema/tables.js';
import {
  accountRange,
  bindInstant,
  bucket,
  type BuiltQuery,
  epochMs,
  inRange,
  lastBucket,
  ParamBag,
  USER_KEY,
} from '../infrastructure/clickhouse/query/query-kit.js';
import { filterSql, type InsightsFilter } from './insights-filters.js';
import { DIMENSIONS } from './insights-query.js';
import type { InsightsRange } from './insights-range.js';

export interface FunnelStep {
  name: string;
  filters: InsightsFilter[];
}

export type CountBy = 'profile' | 'session';

/** Who moves through a funnel or returns: a profile (user id, else device) or a session. */
const ENTITY: Record<CountBy, string> = {
  profile: USER_KEY,
  session: 'session_id',
};

/** The same, as step_events hashes them (0: none). */
const STEP_ENTITY: Record<CountBy, string> = { profile: 'profile', session: 'session' };

function stepCondition(step: FunnelStep, bag: ParamBag): string {
  const parts = [`event_name = ${bag.bind(step.name, 'String')}`, ...step.filters.map((f) => filterSql(f, DIMENSIONS[f.name]!, bag))];
  return parts.map((p) => `(${p})`).join(' AND ');
}

/**
 * A funnel. Each entity enters at its first event of step 1 in the range, and reaches step k+1
 * at the first event of that step at or after reaching step k, as long as it is within
 * `windowMs` of the entry; events of a later step before the earlier one do not count. Overall:
 * the count reaching each step (c0, c1, ...) and the median time from the step before (m1, ...).
 *
 * Steps that are event names alone are read from step_events (hashed entities, no strings),
 * and when the names differ, the entry from step_firsts over the range's whole UTC days; steps
 * with filters need the events' columns. `useStepEvents: false` forces the events (tests
 * compare the two).
 */
export function funnelQuery(
  accountId: string,
  range: InsightsRange,
  steps: FunnelStep[],
  windowMs: number,
  countBy: CountBy,
  useStepEvents = true,
): BuiltQuery {
  const bag = new ParamBag();
  const narrow = useStepEvents && steps.every((s) => s.filters.length === 0);
  const [table, entity, none] = narrow ? [STEP_EVENTS_TABLE, STEP_ENTITY[countBy], '0'] : [EVENTS_TABLE, ENTITY[countBy], "''"];
  const account = bag.bind(accountId, 'String');
  const during = ([from, to]: Span) => `(${inRange('timestamp', bindInstant(bag, from), bindInstant(bag, to))})`;
  /** Rows (entity, t in ms[, the source columns]) of the step events with the given names. */
  const rows: StepRows = (names, columns = '', spans = [[range.from, range.to]]) => `SELECT ${entity} AS entity, toUnixTimestamp64Milli(timestamp) AS t${columns}
      FROM ${table}
      PREWHERE account_id = ${account} AND (${spans.map(during).join(' OR ')})
        AND event_name IN ${bag.bind([...new Set(names)], 'Array(String)')}${narrow ? '' : ' AND is_bot = 0'}
      WHERE entity != ${none}`;
  const window = bag.bind(windowMs, 'Int64');
  const distinct = new Set(steps.map((s) => s.name)).size === steps.length;
  if (!distinct) return { sql: folded(bag, steps, rows, window), params: bag.params };
  const entry = narrow ? firstTimes(bag, account, range, steps[0]!.name, countBy, rows) : undefined;
  return { sql: stepwise(bag, steps, rows, window, entry), params: bag.params };
}

/** A span of time [from, to) in ms. */
type Span = [number, number];

const DAY_MS = 86_400_000;

/**
 * Rows (entity, t) whose least t per entity is its first `name` event in the range: over the
 * range's whole UTC days, step_firsts' first per day; over the cut days at its ends, the step
 * events themselves.
 */
function firstTimes(bag: ParamBag, account: string, range: InsightsRange, name: string, countBy: CountBy, rows: StepRows): string {
  const firstDay = Math.ceil(range.from / DAY_MS) * DAY_MS;
  const lastDay = Math.floor(range.to / DAY_MS) * DAY_MS;
  if (firstDay >= lastDay) return rows([name]);
  const date = (t: number) => bag.bind(new Date(t).toISOString().slice(0, 10), 'Date');
  const firsts = `SELECT entity, toUnixTimestamp64Milli(first) AS t FROM ${STEP_FIRSTS_TABLE}
      WHERE account_id = ${account} AND event_name = ${bag.bind(name, 'String')} AND kind = ${bag.bind(countBy, 'String')}
        AND ${inRange('day', date(firstDay), date(lastDay))}`;
  const cut = ([[range.from, firstDay], [lastDay, range.to]] as Span[]).filter(([from, to]) => from < to);
  return cut.length > 0 ? `${firsts}
      UNION ALL
      ${rows([name], '', cut)}` : firsts;
}

type StepRows = (names: string[], columns?: string, spans?: Span[]) => string;

/**
 * Step names all differ, so an event is of one step at most, and the first event of step k+1
 * at or after step k is the least such time: per entity, the entry time, and the times of each
 * later step in an array, searched one step after the other. No sorting, no fold: the entry
 * needs only a minimum (over `firsts` when given: rows whose least t per entity is the entry),
 * and the (usually few) later-step events a small array each.
 */
function stepwise(bag: ParamBag, steps: FunnelStep[], rows: StepRows, window: string, firsts?: string): string {
  const [first, ...later] = steps;
  const entry =
    firsts ??
    (first!.filters.length > 0
      ? `SELECT entity, t FROM (${rows([first!.name], ', *')}) WHERE ${stepCondition(first!, bag)}`
      : rows([first!.name]));
  const arrays = later.map((s, i) => `groupArrayIf(t, ${stepCondition(s, bag)}) AS a${i + 1}`);
  // t{k}: the step's time, or the largest Int64 when not reached; ok{k}: reached in the window.
  const NEVER = '9223372036854775807';
  const reached = later.map(
    (_, i) => `arrayMin(arrayPushBack(arrayFilter(x -> x >= t${i}, a${i + 1}), ${NEVER})) AS t${i + 1},
      ${i === 0 ? '' : `ok${i} AND `}t${i + 1} <= t0 + ${window} AS ok${i + 1}`,
  );
  const counts = ['count() AS c0', ...later.map((_, i) => `countIf(ok${i + 1}) AS c${i + 1}`)];
  const medians = later.map((_, i) => `quantileExactInclusiveIf(0.5)(t${i + 1} - t${i}, ok${i + 1}) AS m${i + 1}`);
  return `SELECT ${[...counts, ...medians].join(', ')}
FROM (
  SELECT t0, ${reached.join(',\n    ')}
  FROM (
    SELECT entity, min(t) AS t0 FROM (${entry}) GROUP BY entity
  ) AS entered
  LEFT JOIN (
    SELECT entity, ${arrays.join(', ')} FROM (${rows(later.map((s) => s.name), ', *')}) GROUP BY entity
  ) AS later USING entity
)
SETTINGS join_use_nulls = 0`;
}

/**
 * Steps that share an event name (an event may be of several): each entity's step events are
 * folded in time order. Events that are only step 1 matter only as the entry, so just the first
 * of them is folded.
 */
function folded(bag: ParamBag, steps: FunnelStep[], rows: StepRows, window: string): string {
  const mask = steps.map((s, i) => `if(${stepCondition(s, bag)}, ${2 ** i}, 0)`).join(' + ');
  const n = steps.length;
  // State: (level reached, entry time, time of the last step reached, gaps between steps).
  const fold = `arrayFold((acc, e) ->
      if(acc.1 = 0,
        if(bitTest(e.2, 0), CAST((1, e.1, e.1, []), 'Tuple(UInt8, Int64, Int64, Array(Int64))'), acc),
        if(acc.1 < ${n} AND bitTest(e.2, acc.1) AND e.1 - acc.2 <= ${window},
          CAST((acc.1 + 1, acc.2, e.1, arrayPushBack(acc.4, e.1 - acc.3)), 'Tuple(UInt8, Int64, Int64, Array(Int64))'),
          acc)),
      arraySort(arrayConcat(
        if(countIf(m = 1) > 0, [(minIf(t, m = 1), toUInt32(1))], CAST([], 'Array(Tuple(Int64, UInt32))')),
        groupArrayIf((t, m), m != 1))),
      CAST((0, 0, 0, []), 'Tuple(UInt8, Int64, Int64, Array(Int64))'))`;
  const counts = steps.map((_, i) => `countIf(level >= ${i + 1}) AS c${i}`);
  const medians = steps.slice(1).map((_, i) => `quantileExactInclusiveIf(0.5)(gaps[${i + 1}], level >= ${i + 2}) AS m${i + 1}`);
  return `SELECT ${[...counts, ...medians].join(', ')}
FROM (
  SELECT entity, ${fold} AS state, state.1 AS level, state.4 AS gaps
  FROM (SELECT entity, t, toUInt32(${mask}) AS m FROM (${rows(steps.map((s) => s.name), ', *')}))
  GROUP BY entity
)`;
}

/**
 * Retention as a triangle: each entity's cohort is the period of its first `startEvent` (any
 * event when unset) in the range; it returns in period k when it has a `returnEvent` (any event
 * when unset) k periods after its cohort. Answers (cohort, k, entities) and each cohort's size.
 *
 * Profiles over any event are read from their 15-minute activity (profile_activity) when the
 * range's bounds are whole buckets: a period of any interval in any zone is made of whole
 * buckets, so the answer is the same, from about a third of the rows. `useActivity: false`
 * forces the events (tests compare the two).
 */
export function retentionQuery(
  accountId: string,
  range: InsightsRange,
  countBy: CountBy,
  startEvent: string | undefined,
  returnEvent: string | undefined,
  useActivity = true,
): BuiltQuery {
  const bag = new ParamBag();
  const tz = bag.bind(range.timezone, 'String');
  const period = bucket(range.interval, 't', tz);
  // A period's number, counted in the query's zone (weeks start on Monday, so days / 7 is whole).
  const number = (x: string) =>
    range.interval === 'month' ? `toRelativeMonthNum(${x})` : range.interval === 'week' ? `intDiv(toRelativeDayNum(${x}), 7)` : range.interval === 'hour' ? `toRelativeHourNum(${x})` : `toRelativeDayNum(${x})`;
  const lastPeriod = lastBucket(range.interval, bindInstant(bag, range.to), tz);
  const account = bag.bind(accountId, 'String');
  const activity =
    useActivity &&
    countBy === 'profile' &&
    startEvent === undefined &&
    returnEvent === undefined &&
    range.from % ACTIVITY_BUCKET_MS === 0 &&
    range.to % ACTIVITY_BUCKET_MS === 0;
  let rows: string;
  if (activity) {
    rows = `SELECT profile AS entity, bucket AS t, 1 AS is_start, 1 AS is_return
      FROM ${ACTIVITY_TABLE}
      WHERE ${accountRange(account, 'bucket', bindInstant(bag, range.from), bindInstant(bag, range.to))}`;
  } else {
    const isStart = startEvent === undefined ? '1' : `event_name = ${bag.bind(startEvent, 'String')}`;
    const isReturn = returnEvent === undefined ? '1' : `event_name = ${bag.bind(returnEvent, 'String')}`;
    rows = `SELECT ${ENTITY[countBy]} AS entity, timestamp AS t, ${isStart} AS is_start, ${isReturn} AS is_return
      FROM ${EVENTS_TABLE}
      PREWHERE ${accountRange(account, 'timestamp', bindInstant(bag, range.from), bindInstant(bag, range.to))} AND is_bot = 0
      WHERE entity != ''`;
  }
  // Any event starts and returns: plain aggregates (the -If forms cost about a fifth more).
  const anyEvent = startEvent === undefined && returnEvent === undefined;
  const [first, starts, returned] = anyEvent
    ? ['min(t)', '', 'groupArray(n)']
    : ['minIf(t, is_start)', ', countIf(is_start) AS starts', 'groupArrayIf(n, is_return)'];
  return {
    // One scan: per entity its first start (whose period is the cohort: periods grow with time)
    // and the periods it returned in, deduplicated once per entity; k = -1 carries the cohort
    // sizes.
    sql: `SELECT ${epochMs('cohort')} AS c, k, count() AS n, any(last) AS last
FROM (
  SELECT ${bucket(range.interval, 'first', tz)} AS cohort, toInt64(${number('cohort')}) AS cohort_number, ${number(lastPeriod)} - cohort_number AS last,
    arrayJoin(arrayConcat([-1], arrayFilter(x -> x >= 0, arrayMap(q -> toInt64(q) - cohort_number, arrayDistinct(returned))))) AS k
  FROM (
    SELECT entity, ${first} AS first${starts}, ${returned} AS returned
    FROM (SELECT entity, t, ${number(period)} AS n, is_start, is_return FROM (${rows}))
    GROUP BY entity${anyEvent ? '' : '\n    HAVING starts > 0'}
  )
)
GROUP BY cohort, k`,
    params: bag.params,
  };
}

const ACTIVITY_BUCKET_MS = 15 * 60_000;
