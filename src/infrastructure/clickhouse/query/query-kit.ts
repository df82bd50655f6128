import type { QueryParams } from '../events-store.port.js';

/**
 * The pieces every reader of the events store builds its SQL from (metrics, insights, and
 * next reports and alerts): bound parameters, time buckets in a zone, epoch-ms instants and
 * the account + time range clause. Each function returns SQL text; none reads user text into
 * it, every value goes through a ParamBag. The SQL each produces is pinned by query-kit.test.ts.
 *
 * Table names and the schema's own SQL (views, rollup columns) are not here: they belong to
 * the schema, next to the migrations.
 */

// ---- Bound parameters ----------------------------------------------------------------------

/** The ClickHouse types values are bound as. Add one here when a query needs it. */
export type ParamType = 'String' | 'Int64' | 'UInt32' | 'Float64' | 'Date' | 'Array(String)' | 'Array(UInt32)';

/** Hands out parameter names, so every user value is bound (`{p3:String}`), never pasted into SQL. */
export class ParamBag {
  readonly params: QueryParams = {};
  private next = 0;

  /** Binds `value` as the next parameter (`p0`, `p1`, …) and answers its placeholder. */
  bind(value: string | number | readonly (string | number)[], type: ParamType): string {
    const name = `p${this.next++}`;
    this.params[name] = value;
    return `{${name}:${type}}`;
  }
}

/** A query ready to run: its SQL and the values of its placeholders. */
export interface BuiltQuery {
  sql: string;
  params: QueryParams;
}

// ---- Instants ------------------------------------------------------------------------------

/** An epoch-ms instant as a bound DateTime64(3) (`fromUnixTimestamp64Milli({p0:Int64})`). */
export const bindInstant = (bag: ParamBag, ms: number): string => `fromUnixTimestamp64Milli(${bag.bind(ms, 'Int64')})`;

/** A DateTime expression as epoch milliseconds (what the API answers as `t`). */
export const epochMs = (x: string): string => `toUnixTimestamp(${x}) * 1000`;

// ---- Time buckets --------------------------------------------------------------------------

export const INTERVALS = ['minute', 'hour', 'day', 'week', 'month'] as const;
export type Interval = (typeof INTERVALS)[number];

/** Each interval as a ClickHouse INTERVAL, the step between buckets. */
export const INTERVAL_STEP: Record<Interval, string> = {
  minute: 'INTERVAL 1 MINUTE',
  hour: 'INTERVAL 1 HOUR',
  day: 'INTERVAL 1 DAY',
  week: 'INTERVAL 1 WEEK',
  month: 'INTERVAL 1 MONTH',
};

/**
 * Each interval's length in ms, a month as its shortest (28 days): divides a range's span to
 * bound how many points it makes.
 */
export const INTERVAL_MS: Record<Interval, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 28 * 86_400_000,
};

/**
 * The start of the bucket holding `x` (a DateTime or DateTime64 expression), as a DateTime in
 * the time zone `tz` (a bound String): buckets start at local midnight, weeks on Monday.
 */
export function bucket(interval: Interval, x: string, tz: string): string {
  const local = `toDateTime(${x}, ${tz})`;
  switch (interval) {
    case 'minute':
      return `toStartOfMinute(${local})`;
    case 'hour':
      return `toStartOfHour(${local})`;
    case 'day':
      return `toStartOfDay(${local})`;
    case 'week':
      return `toDateTime(toMonday(${local}), ${tz})`;
    case 'month':
      return `toDateTime(toStartOfMonth(${local}), ${tz})`;
  }
}

/** The bucket holding the last instant before `to` (the range [from, to) ends in it). */
export const lastBucket = (interval: Interval, to: string, tz: string): string => bucket(interval, `${to} - INTERVAL 1 MILLISECOND`, tz);

/**
 * `WITH FILL` for an `ORDER BY <bucket>` over [from, to): every bucket of the range, the last
 * one included (FILL's TO is exclusive), one step apart.
 */
export function withFill(interval: Interval, from: string, to: string, tz: string): string {
  const step = INTERVAL_STEP[interval];
  return `WITH FILL FROM ${bucket(interval, from, tz)} TO ${lastBucket(interval, to, tz)} + ${step} STEP ${step}`;
}

// ---- Clauses -------------------------------------------------------------------------------

/** `column` in [from, to): both bounds are SQL (bound) expressions. */
export const inRange = (column: string, from: string, to: string): string => `${column} >= ${from} AND ${column} < ${to}`;

/**
 * One account's rows with `column` in [from, to) (`account` a bound String): the prefix of
 * every table's sort key, so it goes first (and in PREWHERE when reading events).
 */
export const accountRange = (account: string, column: string, from: string, to: string): string =>
  `account_id = ${account} AND ${inRange(column, from, to)}`;

/**
 * Who an event counts as for unique users and profiles: the user id, else the anonymous id
 * ('' when neither). The events rollup's user sets and profile hashes are made of it too.
 */
export const USER_KEY = `if(user_id != '', user_id, anonymous_id)`;
