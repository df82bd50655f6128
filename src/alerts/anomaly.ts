import type { AnomalySettings, Observation } from './alert.types.js';
import { hourOfWeekLabel, shiftDays, timeOfDayLabel, type Window } from './alert-window.js';

/** Fewest past windows a band is computed from; with fewer the alert is still learning. */
export const MIN_SAMPLES = 3;
/** The band is never narrower than this share of the median: a very regular series still has some room. */
const MIN_RELATIVE_SPREAD = 0.05;
/** MAD × this estimates the standard deviation of normally distributed values. */
export const MAD_SCALE = 1.4826;

export const DEFAULT_ANOMALY: AnomalySettings = { sensitivity: 3, weeks: 4, minVolume: 0, direction: 'both' };

export interface BaselinePlan {
  /** hour_of_week: the same window in past weeks; hour_of_day: the same window on past days (a short history). */
  mode: 'hour_of_week' | 'hour_of_day';
  windows: Window[];
}

/**
 * Which past windows predict `w`: the same time in each of the last `weeks` weeks when at least
 * MIN_SAMPLES of them lie after the first event (`historyStart`), so the weekly rhythm (quiet
 * weekends, a daily peak) is the expectation; with a shorter history, the same time on each of
 * the last 7 days; with less than MIN_SAMPLES days, none (learning).
 */
export function baselinePlan(w: Window, settings: AnomalySettings, tz: string, historyStart: number | null): BaselinePlan | null {
  if (historyStart === null) return null;
  const past = (days: number[]) => days.map((d) => shiftDays(w, d, tz)).filter((s) => s.from >= historyStart);
  const weekly = past(Array.from({ length: settings.weeks }, (_, i) => 7 * (i + 1)));
  if (weekly.length >= MIN_SAMPLES) return { mode: 'hour_of_week', windows: weekly };
  const daily = past([1, 2, 3, 4, 5, 6, 7]);
  if (daily.length >= MIN_SAMPLES) return { mode: 'hour_of_day', windows: daily };
  return null;
}

export function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export interface Band {
  median: number;
  mad: number;
  /** The spread used: 1.4826 × MAD, at least 5 % of the median, and for counts at least √median. */
  spread: number;
  lower: number;
  upper: number;
}

/**
 * The expected band from past values: median ± sensitivity × spread, where the spread is the
 * robust standard deviation 1.4826 × MAD (one unusual week does not widen it, as it would a
 * standard deviation). Counts vary at least by their square root (Poisson), so a count's spread
 * is never below √median: a quiet hour with 2 events instead of 4 is not news.
 */
export function band(samples: number[], sensitivity: number, countLike: boolean): Band {
  const m = median(samples);
  const mad = median(samples.map((x) => Math.abs(x - m)));
  const spread = Math.max(MAD_SCALE * mad, MIN_RELATIVE_SPREAD * Math.abs(m), countLike ? Math.sqrt(Math.max(m, 1)) : 0);
  return { median: m, mad, spread, lower: m - sensitivity * spread, upper: m + sensitivity * spread };
}

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) >= 100 ? 2 : 3).replace(/\.?0+$/, ''));

/** Judges one window's value against its baseline's band, saying how the band was found. */
export function judgeAnomaly(
  value: number | null,
  plan: BaselinePlan,
  samples: (number | null)[],
  settings: AnomalySettings,
  countLike: boolean,
  w: Window,
  tz: string,
): Pick<Observation, 'outcome' | 'explanation' | 'bound'> {
  const known = samples.filter((s): s is number => s !== null && Number.isFinite(s));
  if (value === null) return { outcome: 'no_data', explanation: 'no value was measured in this window' };
  if (known.length < MIN_SAMPLES) {
    return { outcome: 'learning', explanation: `learning: ${known.length} past window(s) with a value, ${MIN_SAMPLES} needed for a band` };
  }
  const b = band(known, settings.sensitivity, countLike);
  const place =
    plan.mode === 'hour_of_week'
      ? `the same hour-of-week (${hourOfWeekLabel(w.from, tz)}) in the last ${known.length} weeks`
      : `the same time of day (${timeOfDayLabel(w.from, tz)}) on the last ${known.length} days (history shorter than ${MIN_SAMPLES} weeks)`;
  const how = `median ${fmt(b.median)} ± ${settings.sensitivity} × ${fmt(b.spread)} (spread: ${MAD_SCALE} × MAD ${fmt(b.mad)}, at least 5% of the median${countLike ? ' and √median' : ''}) of ${place}: ${known.map(fmt).join(', ')}`;
  const bound = { expected: b.median, lower: b.lower, upper: b.upper };
  const quiet = Math.max(Math.abs(value), Math.abs(b.median)) < settings.minVolume;
  const high = value > b.upper && settings.direction !== 'down';
  const low = value < b.lower && settings.direction !== 'up';
  if (quiet && (high || low)) {
    return { outcome: 'clear', bound, explanation: `observed ${fmt(value)} is outside the expected ${fmt(b.lower)} to ${fmt(b.upper)}, but below the minimum volume ${fmt(settings.minVolume)}; ${how}` };
  }
  if (high || low) {
    const pct = b.median !== 0 ? ` (${value > b.median ? '+' : ''}${fmt(((value - b.median) / Math.abs(b.median)) * 100)}% from the median)` : '';
    return { outcome: 'breach', bound, explanation: `observed ${fmt(value)} is ${high ? 'above' : 'below'} the expected ${fmt(b.lower)} to ${fmt(b.upper)}${pct}; ${how}` };
  }
  return { outcome: 'clear', bound, explanation: `observed ${fmt(value)} is within the expected ${fmt(b.lower)} to ${fmt(b.upper)}; ${how}` };
}

export { fmt as formatNumber };
