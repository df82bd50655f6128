import { zoneOffsetAt } from '../common/time.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * The periods an alert can judge: each divides a day, so windows line up with the clock of the
 * alert's zone (a `1h` window is 14:00–15:00 there, a `1d` window a local day).
 */
export const WINDOWS: Record<string, number> = {
  '1m': MINUTE,
  '5m': 5 * MINUTE,
  '10m': 10 * MINUTE,
  '15m': 15 * MINUTE,
  '30m': 30 * MINUTE,
  '1h': 60 * MINUTE,
  '2h': 120 * MINUTE,
  '3h': 180 * MINUTE,
  '4h': 240 * MINUTE,
  '6h': 360 * MINUTE,
  '12h': 720 * MINUTE,
  '1d': DAY,
};

export interface Window {
  from: number;
  to: number;
}

/** The instant whose wall-clock time in `tz` is `local` (ms since the local epoch). */
function instantOf(local: number, tz: string): number {
  const guess = local - zoneOffsetAt(local, tz);
  return local - zoneOffsetAt(guess, tz);
}

const wallClock = (t: number, tz: string): number => t + zoneOffsetAt(t, tz);

/** Start of the window holding instant `t`: the wall clock of `tz` floored to the window's length. */
export function windowStart(t: number, length: number, tz: string): number {
  const local = wallClock(t, tz);
  const floored = Math.floor(local / length) * length;
  // When clocks go back a local time happens twice: keep the occurrence at or before `t` (the
  // same offset as `t`), so a window never starts after the instant it holds.
  const sameOffset = t - (local - floored);
  if (wallClock(sameOffset, tz) === floored) return sameOffset;
  return instantOf(floored, tz);
}

/** The window that follows `w` (a local day can be 23 or 25 hours long). */
export function nextWindow(w: Window, length: number, tz: string): Window {
  return { from: w.to, to: windowStart(w.to + length + length / 2, length, tz) };
}

export function previousWindow(w: Window, length: number, tz: string): Window {
  return { from: windowStart(w.from - 1, length, tz), to: w.from };
}

/**
 * The last window complete at `now`: one that ended at least `delay` ago, so events that arrive
 * a little late are in it. A window still filling is never judged.
 */
export function lastCompleteWindow(now: number, length: number, tz: string, delay: number): Window {
  const to = windowStart(now - delay, length, tz);
  return { from: windowStart(to - 1, length, tz), to };
}

/** The same window `days` earlier on the wall clock of `tz` (a week back is the same hour-of-week, across clock changes). */
export function shiftDays(w: Window, days: number, tz: string): Window {
  return { from: instantOf(wallClock(w.from, tz) - days * DAY, tz), to: instantOf(wallClock(w.to, tz) - days * DAY, tz) };
}

/** "Tue 14:00" in `tz`: how a window's place in the week reads in an explanation. */
export function hourOfWeekLabel(t: number, tz: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: tz, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(t));
}

export function timeOfDayLabel(t: number, tz: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(t));
}
