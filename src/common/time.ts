import { EventsStoreError } from '../infrastructure/clickhouse/events-store.port.js';
import { ApiError } from './api-error.js';

/**
 * A time zone name as the events store knows it, or null when it is not an IANA zone. Intl
 * forgives letter case ("utc", "europe/paris") and ClickHouse does not, so a name that differs
 * from Intl's canonical one only in case becomes that one; other names (links such as
 * "Asia/Kathmandu") stay as given. Offsets ("+05:30") are not IANA names.
 */
export function ianaZone(name: string): string | null {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return null;
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
  return canonical.toLowerCase() === name.toLowerCase() ? canonical : name;
}

/** The last instant the API takes: the end of year 9999 in every zone. The first is 1970-01-01. */
export const LAST_INSTANT_MS = Date.UTC(10000, 0, 2);

/** Whether epoch milliseconds are an instant the API takes: JavaScript dates and the store's types reach different bounds. */
export const isApiInstant = (ms: number): boolean => Number.isFinite(ms) && ms >= 0 && ms <= LAST_INSTANT_MS;

/**
 * Whether the store refused a query for a time zone it does not know (ClickHouse's code 36,
 * "Cannot load time zone"): Intl and the store's time zone data can differ, and ClickHouse, unlike
 * Intl, wants a link's exact letter case ("US/Pacific", not "us/pacific").
 */
export function isUnknownZoneError(err: unknown): boolean {
  return err instanceof EventsStoreError && err.clickhouseCode === 36 && /Cannot load time zone/i.test(err.message);
}

/** The client's answer to such a query (the store's text stays out of it). */
export const unknownZone = (): ApiError =>
  ApiError.validation([{ field: 'timezone', message: 'is not a time zone the events store knows; use its IANA name as spelled there (e.g. America/Los_Angeles)' }]);

/** The zone's UTC offset in ms at an instant. */
export function zoneOffsetAt(instant: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(instant));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return local - Math.floor(instant / 1000) * 1000;
}

/** The instant of local midnight starting the given local date (month and day may overflow). */
export function localMidnight(year: number, month: number, day: number, tz: string): number {
  const guess = Date.UTC(year, month, day);
  const first = guess - zoneOffsetAt(guess, tz);
  return guess - zoneOffsetAt(first, tz);
}

/** The local calendar date of an instant in the zone. */
export function localDate(instant: number, tz: string): { y: number; m: number; d: number } {
  const local = new Date(instant + zoneOffsetAt(instant, tz));
  return { y: local.getUTCFullYear(), m: local.getUTCMonth(), d: local.getUTCDate() };
}
