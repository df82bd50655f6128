import type { FieldProblem } from '../common/api-error.js';
import { localDate, localMidnight } from '../common/time.js';
import type { Interval } from '../infrastructure/clickhouse/query/query-kit.js';

/** Relative periods, always whole local days in the report's zone. */
export const RELATIVE_RANGES = ['yesterday', 'last_7_days', 'last_30_days', 'last_week', 'last_month', 'month_to_date'] as const;
export type RelativeRange = (typeof RELATIVE_RANGES)[number];

/** A report's period: a relative name, or local dates `{start, end}` (end inclusive). */
export type DateRangeParam = RelativeRange | { start: string; end: string };

export interface ResolvedPeriod {
  /** The instant it was resolved as of (the scheduled time, or when the run was asked for). */
  asOf: number;
  /** [from, to) in epoch ms: local midnights. */
  from: number;
  to: number;
  timezone: string;
  /** Local dates, end inclusive: "2026-11-01 – 2026-11-30", or one date. */
  label: string;
  /** The period holds today (still running): its last day is partial. */
  inProgress: boolean;
  /** The series' bucket: hours for a day or two, else days. */
  interval: Interval;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY = 86_400_000;

/** Checks a date range parameter; problems name `field` and its parts. */
export function checkDateRange(value: unknown, field: string): FieldProblem[] {
  if (typeof value === 'string') {
    return (RELATIVE_RANGES as readonly string[]).includes(value)
      ? []
      : [{ field, message: `must be one of ${RELATIVE_RANGES.join(', ')}, or {"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}` }];
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [{ field, message: `must be one of ${RELATIVE_RANGES.join(', ')}, or {"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}` }];
  }
  const problems: FieldProblem[] = [];
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) if (k !== 'start' && k !== 'end') problems.push({ field: `${field}.${k}`, message: 'is not a known field (start, end)' });
  for (const k of ['start', 'end'] as const) {
    const d = v[k];
    if (typeof d !== 'string' || !DATE.test(d) || !validDate(d)) problems.push({ field: `${field}.${k}`, message: 'must be a date YYYY-MM-DD' });
  }
  if (problems.length === 0 && (v.start as string) > (v.end as string)) problems.push({ field: `${field}.start`, message: 'must not be after end' });
  if (problems.length === 0) {
    const days = (Date.parse(`${v.end}T00:00:00Z`) - Date.parse(`${v.start}T00:00:00Z`)) / DAY + 1;
    if (days > 400) problems.push({ field: `${field}.end`, message: `spans ${days} days; at most 400` });
  }
  return problems;
}

function validDate(text: string): boolean {
  const [y, m, d] = text.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d));
  return y >= 1970 && y <= 9999 && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/**
 * The period of a (checked) date range, in whole local days of `tz`, as of `asOf` (a scheduled
 * run resolves against its scheduled time, so a late run reports the period it was due for).
 * `last_week` is Monday to Sunday. `month_to_date` and an absolute range that reaches today (or
 * later) are not over: `inProgress` says so, and templates label it.
 */
export function resolvePeriod(range: DateRangeParam, tz: string, asOf: number): ResolvedPeriod {
  const { y, m, d } = localDate(asOf, tz);
  const today = localMidnight(y, m, d, tz);
  const tomorrow = localMidnight(y, m, d + 1, tz);
  let from: number;
  let to: number;
  if (typeof range === 'object') {
    const [sy, sm, sd] = range.start.split('-').map(Number) as [number, number, number];
    const [ey, em, ed] = range.end.split('-').map(Number) as [number, number, number];
    from = localMidnight(sy, sm - 1, sd, tz);
    to = localMidnight(ey, em - 1, ed + 1, tz);
  } else {
    switch (range) {
      case 'yesterday':
        [from, to] = [localMidnight(y, m, d - 1, tz), today];
        break;
      case 'last_7_days':
        [from, to] = [localMidnight(y, m, d - 7, tz), today];
        break;
      case 'last_30_days':
        [from, to] = [localMidnight(y, m, d - 30, tz), today];
        break;
      case 'last_week': {
        // The local weekday of today (0 = Monday), from the local date itself.
        const weekday = (new Date(Date.UTC(y, m, d)).getUTCDay() + 6) % 7;
        [from, to] = [localMidnight(y, m, d - weekday - 7, tz), localMidnight(y, m, d - weekday, tz)];
        break;
      }
      case 'last_month':
        [from, to] = [localMidnight(y, m - 1, 1, tz), localMidnight(y, m, 1, tz)];
        break;
      case 'month_to_date':
        [from, to] = [localMidnight(y, m, 1, tz), tomorrow];
        break;
    }
  }
  // Not over yet (it holds today, or a day to come): its figures are partial.
  const inProgress = asOf < to;
  return { asOf, from, to, timezone: tz, label: periodLabel(from, to, tz), inProgress, interval: to - from <= 2 * DAY + 3_600_000 ? 'hour' : 'day' };
}

/** "2026-11-01 – 2026-11-30" (local dates, the end inclusive), or one date. */
export function periodLabel(from: number, to: number, tz: string): string {
  const first = localDay(from, tz);
  const last = localDay(to - 1, tz);
  return first === last ? first : `${first} – ${last}`;
}

/** The local date of an instant, YYYY-MM-DD. */
export function localDay(instant: number, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(instant));
}
