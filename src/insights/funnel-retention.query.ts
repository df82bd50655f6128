import { bucket } from '../metrics/metric-query.js';
import { ParamBag } from '../metrics/field-ref.js';
import { filterSql, type InsightsFilter } from './insights-filters.js';
import { ACTIVITY_TABLE } from '../events/events.migrations.js';
import { type BuiltQuery, DIMENSIONS, ms } from './insights-query.js';
import type { InsightsRange } from './insights-range.js';

export interface FunnelStep {
  name: string;
  filters: InsightsFilter[];
}

export type CountBy = 'profile' | 'session';

/** Who moves through a funnel or returns: a profile (user id, else device) or a session. */
const ENTITY: Record<CountBy, string> = {
  profile: `if(user_id != '', user_id, anonymous_id)`,
  session: 'session_id',
};

function stepCondition(step: FunnelStep, bag: ParamBag): string {
  const parts = [`event_name = ${bag.bind(step.name, 'String')}`, ...step.filters.map((f) => filterSql(f, DIMENSIONS[f.name]!, bag))];
  return parts.map((p) => `(${p})`).join(' AND ');
}

/**
 * A funnel in one pass. Each entity's step events in the range are folded in time order: it
 * enters at its first event of step 1, and reaches step k+1 at the first event of that step
 * after reaching step k, as long as it is within `windowMs` of the entry. Events of a later step
 * before the earlier one do not count. Per entity: the level reached and the time from each
 * step to the next; overall, the count reaching each step and the median of those times.
 * Events that are only step 1 matter only as the entry, so just the first of them is folded.
 */
export function funnelQuery(
  accountId: string,
  range: InsightsRange,
  steps: FunnelStep[],
  windowMs: number,
  countBy: CountBy,
): BuiltQuery {
  const bag = new ParamBag();
  const entity = ENTITY[countBy];
  const mask = steps.map((s, i) => `if(${stepCondition(s, bag)}, ${2 ** i}, 0)`).join(' + ');
  const window = bag.bind(windowMs, 'Int64');
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
  return {
    sql: `SELECT ${[...counts, ...medians].join(', ')}
FROM (
  SELECT entity, ${fold} AS state, state.1 AS level, state.4 AS gaps
  FROM (
    SELECT ${entity} AS entity, toUnixTimestamp64Milli(timestamp) AS t, toUInt32(${mask}) AS m
    FROM events
    PREWHERE account_id = ${bag.bind(accountId, 'String')} AND timestamp >= ${ms(bag, range.from)} AND timestamp < ${ms(bag, range.to)}
      AND event_name IN ${bag.bind([...new Set(steps.map((s) => s.name))], 'Array(String)')} AND is_bot = 0
    WHERE entity != ''
  )
  GROUP BY entity
)`,
    params: bag.params,
  };
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
  const lastPeriod = bucket(range.interval, `${ms(bag, range.to)} - INTERVAL 1 MILLISECOND`, tz);
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
    rows = `SELECT profile AS entity, toDateTime64(bucket, 3, 'UTC') AS t, 1 AS is_start, 1 AS is_return
      FROM ${ACTIVITY_TABLE}
      WHERE account_id = ${account} AND bucket >= ${ms(bag, range.from)} AND bucket < ${ms(bag, range.to)}`;
  } else {
    const isStart = startEvent === undefined ? '1' : `event_name = ${bag.bind(startEvent, 'String')}`;
    const isReturn = returnEvent === undefined ? '1' : `event_name = ${bag.bind(returnEvent, 'String')}`;
    rows = `SELECT ${ENTITY[countBy]} AS entity, timestamp AS t, ${isStart} AS is_start, ${isReturn} AS is_return
      FROM events
      PREWHERE account_id = ${account} AND timestamp >= ${ms(bag, range.from)} AND timestamp < ${ms(bag, range.to)} AND is_bot = 0
      WHERE entity != ''`;
  }
  return {
    // One scan: per entity its cohort and the periods it returned in; k = -1 carries the cohort sizes.
    sql: `SELECT toUnixTimestamp(cohort) * 1000 AS c, k, count() AS n, any(last) AS last
FROM (
  SELECT cohort, ${number(lastPeriod)} - cohort_number AS last,
    arrayJoin(arrayConcat([-1], arrayFilter(x -> x >= 0, arrayMap(q -> toInt64(q) - cohort_number, returned)))) AS k
  FROM (
    SELECT entity, minIf(p, is_start) AS cohort, toInt64(minIf(n, is_start)) AS cohort_number, countIf(is_start) AS starts,
      groupUniqArrayIf(n, is_return) AS returned
    FROM (SELECT entity, ${period} AS p, ${number(period)} AS n, is_start, is_return FROM (${rows}))
    GROUP BY entity
    HAVING starts > 0
  )
)
GROUP BY cohort, k`,
    params: bag.params,
  };
}

const ACTIVITY_BUCKET_MS = 15 * 60_000;
