import { CronExpressionParser } from 'cron-parser';
import type { FieldProblem } from '../common/api-error.js';
import { ianaZone } from '../common/time.js';
import type { ReportSchedule } from './report.types.js';

/**
 * Report schedules: five-field cron in an IANA zone, read as wall-clock times of that zone, so a
 * 09:00 Berlin report is at 09:00 in Berlin in winter and in summer. Across a change of the clock
 * (cron-parser's reading, pinned by tests): a time that does not exist that day (02:30 when the
 * clock jumps from 02:00 to 03:00) runs at the same minute of the next hour (03:30); a time that
 * occurs twice (02:30 when 03:00 falls back to 02:00) runs once, at the first. A schedule on
 * every hour runs every hour of real time, including both 02:00s of the autumn night.
 */

/** A run more than this long after its time is marked late (the service was down when it was due). */
export const LATE_AFTER_MS = 2 * 60_000;

/** Checks a schedule; problems name `field.cron` / `field.timezone`. Returns the zone as the store spells it. */
export function checkSchedule(value: unknown, field: string): { schedule?: ReportSchedule; problems: FieldProblem[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problems: [{ field, message: 'must be an object {"cron": "0 9 * * 1", "timezone": "Europe/Berlin"}' }] };
  }
  const v = value as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  for (const k of Object.keys(v)) if (k !== 'cron' && k !== 'timezone') problems.push({ field: `${field}.${k}`, message: 'is not a known field (cron, timezone)' });
  const zone = v.timezone === undefined ? 'UTC' : typeof v.timezone === 'string' ? ianaZone(v.timezone) : null;
  if (zone === null) problems.push({ field: `${field}.timezone`, message: 'must be an IANA time zone (e.g. Europe/Berlin)' });
  if (typeof v.cron !== 'string' || v.cron.trim().split(/\s+/).length !== 5) {
    problems.push({ field: `${field}.cron`, message: 'must be a five-field cron expression: minute hour day-of-month month day-of-week (e.g. "0 9 * * 1")' });
  } else if (zone !== null) {
    try {
      CronExpressionParser.parse(v.cron, { tz: zone });
    } catch (err) {
      problems.push({ field: `${field}.cron`, message: `is not a valid cron expression: ${(err as Error).message}` });
    }
  }
  if (problems.length > 0) return { problems };
  return { schedule: { cron: (v.cron as string).trim(), timezone: zone! }, problems };
}

/** The first scheduled time strictly after `after` (epoch ms). */
export function nextRunAfter(schedule: ReportSchedule, after: number): number {
  return CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, currentDate: new Date(after) }).next().getTime();
}

/** The last scheduled time at or before `at` (epoch ms). */
export function lastRunAtOrBefore(schedule: ReportSchedule, at: number): number {
  return CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, currentDate: new Date(at + 1) }).prev().getTime();
}

/** The next `count` scheduled times after `after` (shown with a definition). */
export function upcoming(schedule: ReportSchedule, after: number, count: number): number[] {
  const times = CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, currentDate: new Date(after) });
  return Array.from({ length: count }, () => times.next().getTime());
}
