import { ApiError } from '../common/api-error.js';
import { ianaZone, isApiInstant, localDate, localMidnight } from '../common/time.js';
import { INTERVAL_MS, INTERVALS, type Interval } from '../infrastructure/clickhouse/query/query-kit.js';

/** OpenPanel's named ranges. */
export const RANGES = [
  '30min',
  'lastHour',
  'today',
  'yesterday',
  '7d',
  '30d',
  '6m',
  '12m',
  'monthToDate',
  'lastMonth',
  'yearToDate',
  'lastYear',
  'custom',
] as const;
export type RangeName = (typeof RANGES)[number];

export interface InsightsRange {
  from: number;
  to: number;
  interval: Interval;
  timezone: string;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function parseDate(text: string, field: string, tz: string, endOfDay: boolean): number {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  let ms: number;
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]) - 1, Number(day[3])];
    ms = localMidnight(y, m, d + (endOfDay ? 1 : 0), tz);
  } else {
    ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  }
  if (!isApiInstant(ms)) {
    throw ApiError.validation([{ field, message: 'must be a date (YYYY-MM-DD), an ISO 8601 time or epoch milliseconds, from 1970 to 9999' }]);
  }
  return ms;
}

export function checkTimezone(tz: string | undefined): string {
  const zone = tz ?? 'UTC';
  const name = ianaZone(zone);
  if (name === null) throw ApiError.validation([{ field: 'timezone', message: `"${zone}" is not an IANA time zone` }]);
  return name;
}

/**
 * The time range of an insights query, from OpenPanel's `range` or `startDate` / `endDate`
 * (dates are local days in `timezone`, `endDate` inclusive), and its bucket interval (default
 * minute up to an hour, hour up to two days, day up to 90 days, month beyond).
 */
export function resolveRange(
  q: { range?: string; startDate?: string; endDate?: string; interval?: string; timezone?: string },
  now = Date.now(),
): InsightsRange {
  const tz = checkTimezone(q.timezone);
  let from: number;
  let to: number;
  const range = (q.range ?? (q.startDate || q.endDate ? 'custom' : '7d')) as RangeName;
  if (!(RANGES as readonly string[]).includes(range)) {
    throw ApiError.validation([{ field: 'range', message: `must be one of ${RANGES.join(', ')}` }]);
  }
  const { y, m, d } = localDate(now, tz);
  const today = localMidnight(y, m, d, tz);
  switch (range) {
    case '30min':
      [from, to] = [now - 30 * MIN, now];
      break;
    case 'lastHour':
      [from, to] = [now - HOUR, now];
      break;
    case 'today':
      [from, to] = [today, localMidnight(y, m, d + 1, tz)];
      break;
    case 'yesterday':
      [from, to] = [localMidnight(y, m, d - 1, tz), today];
      break;
    case '7d':
      [from, to] = [localMidnight(y, m, d - 6, tz), localMidnight(y, m, d + 1, tz)];
      break;
    case '30d':
      [from, to] = [localMidnight(y, m, d - 29, tz), localMidnight(y, m, d + 1, tz)];
      break;
    case '6m':
      [from, to] = [localMidnight(y, m - 6, d + 1, tz), localMidnight(y, m, d + 1, tz)];
      break;
    case '12m':
      [from, to] = [localMidnight(y, m - 12, d + 1, tz), localMidnight(y, m, d + 1, tz)];
      break;
    case 'monthToDate':
      [from, to] = [localMidnight(y, m, 1, tz), localMidnight(y, m, d + 1, tz)];
      break;
    case 'lastMonth':
      [from, to] = [localMidnight(y, m - 1, 1, tz), localMidnight(y, m, 1, tz)];
      break;
    case 'yearToDate':
      [from, to] = [localMidnight(y, 0, 1, tz), localMidnight(y, m, d + 1, tz)];
      break;
    case 'lastYear':
      [from, to] = [localMidnight(y - 1, 0, 1, tz), localMidnight(y, 0, 1, tz)];
      break;
    case 'custom': {
      if (!q.startDate) throw ApiError.validation([{ field: 'startDate', message: 'is required with range=custom' }]);
      if (!q.endDate) throw ApiError.validation([{ field: 'endDate', message: 'is required with range=custom' }]);
      from = parseDate(q.startDate, 'startDate', tz, false);
      to = parseDate(q.endDate, 'endDate', tz, true);
      break;
    }
  }
  if (from >= to) throw ApiError.validation([{ field: 'startDate', message: 'must be before endDate' }]);
  const span = to - from;
  const interval = (q.interval ?? (span <= HOUR ? 'minute' : span <= 2 * DAY ? 'hour' : span <= 92 * DAY ? 'day' : 'month')) as Interval;
  if (!(INTERVALS as readonly string[]).includes(interval)) {
    throw ApiError.validation([{ field: 'interval', message: 'must be one of minute, hour, day, week, month' }]);
  }
  if (span / INTERVAL_MS[interval] > 10_000) throw ApiError.validation([{ field: 'interval', message: 'gives more than 10000 points for this range' }]);
  return { from, to, interval, timezone: tz };
}
