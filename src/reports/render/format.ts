/**
 * How report values read, shared by every renderer (PDF, Excel labels, email, chart axes), so
 * every format says the same thing: counts with thousands separators, percentages as "45.2 %",
 * durations as "4m 05s", instants as local wall time in the report's zone (Intl, no library).
 *
 * Values are never rounded here for storage: Excel and CSV cells keep the exact number; these
 * functions only make display text.
 */
import type { CellValue, ReportDocument, ReportPeriod, ValueUnit } from '../report-document.js';

/** Shown for a missing value. */
export const NO_VALUE = '–';
/** The marker of a period, row or chart part that is not over yet. */
export const IN_PROGRESS = 'in progress';

const LOCALE = 'en-US';
const countFormat = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const numberFormat = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });
const percentFormat = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });
const smallPercentFormat = new Intl.NumberFormat(LOCALE, { maximumSignificantDigits: 2 });

/** -0 (and what rounds to it) reads "0", not "-0". */
function signed(format: Intl.NumberFormat, value: number): string {
  const text = format.format(value);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

export function formatCount(value: number): string {
  return signed(countFormat, value);
}

export function formatNumber(value: number): string {
  return signed(numberFormat, value);
}

/** A percentage as a number of percent (45.2 → "45.2 %"); small ones keep two significant digits. */
export function formatPercent(value: number): string {
  const abs = Math.abs(value);
  const text = signed(abs > 0 && abs < 0.1 ? smallPercentFormat : percentFormat, value);
  return `${text} %`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * A duration in seconds for display: "0.8s", "45s", "4m 05s", "1h 02m", "3d 04h". Two units at
 * most: a report reader compares magnitudes, not milliseconds.
 */
export function formatSeconds(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const sign = value < 0 ? '-' : '';
  const s = Math.abs(value);
  if (s < 10 && !Number.isInteger(s)) return `${sign}${Math.round(s * 10) / 10}s`;
  const total = Math.round(s);
  if (total < 60) return `${sign}${total}s`;
  if (total < 3600) return `${sign}${Math.floor(total / 60)}m ${pad2(total % 60)}s`;
  if (total < 86400) return `${sign}${Math.floor(total / 3600)}h ${pad2(Math.floor((total % 3600) / 60))}m`;
  return `${sign}${Math.floor(total / 86400)}d ${pad2(Math.floor((total % 86400) / 3600))}h`;
}

// ---- time in a zone -------------------------------------------------------------------------

export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const partsFormats = new Map<string, Intl.DateTimeFormat>();

function partsFormat(timeZone: string): Intl.DateTimeFormat {
  let format = partsFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    partsFormats.set(timeZone, format);
  }
  return format;
}

/** The wall-clock time an instant (epoch ms) reads in a zone. */
export function wallTime(epochMs: number, timeZone: string): WallTime {
  const wall: Record<string, number> = {};
  for (const part of partsFormat(timeZone).formatToParts(epochMs)) {
    if (part.type !== 'literal') wall[part.type] = Number(part.value);
  }
  return {
    year: wall.year,
    month: wall.month,
    day: wall.day,
    hour: wall.hour,
    minute: wall.minute,
    second: wall.second,
    millisecond: ((epochMs % 1000) + 1000) % 1000,
  };
}

/** The zone's offset from UTC at an instant, in ms (Europe/Berlin in winter: 3_600_000). */
export function zoneOffsetMs(epochMs: number, timeZone: string): number {
  return wallClockMs(epochMs, timeZone) - epochMs;
}

/**
 * The instant's wall time in the zone, as if it were UTC: what a spreadsheet (which has no zones)
 * must hold so that the cell reads the local time.
 */
export function wallClockMs(epochMs: number, timeZone: string): number {
  const w = wallTime(epochMs, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond);
}

const pad4 = (n: number) => String(n).padStart(4, '0');

/** "2026-11-30" in the zone. */
export function formatDate(epochMs: number, timeZone: string): string {
  const w = wallTime(epochMs, timeZone);
  return `${pad4(w.year)}-${pad2(w.month)}-${pad2(w.day)}`;
}

/** "2026-11-30 14:05" in the zone. */
export function formatDateTime(epochMs: number, timeZone: string): string {
  const w = wallTime(epochMs, timeZone);
  return `${pad4(w.year)}-${pad2(w.month)}-${pad2(w.day)} ${pad2(w.hour)}:${pad2(w.minute)}`;
}

/** ISO 8601 with the zone's offset: "2026-11-30T14:05:00+01:00" (".250" when there are ms). */
export function isoWithOffset(epochMs: number, timeZone: string): string {
  const w = wallTime(epochMs, timeZone);
  const offsetMin = Math.round(zoneOffsetMs(epochMs, timeZone) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const ms = w.millisecond ? `.${String(w.millisecond).padStart(3, '0')}` : '';
  return (
    `${pad4(w.year)}-${pad2(w.month)}-${pad2(w.day)}T${pad2(w.hour)}:${pad2(w.minute)}:${pad2(w.second)}${ms}` +
    `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`
  );
}

// ---- cells and report lines -----------------------------------------------------------------

export function isNumericUnit(unit: ValueUnit): unit is MeasureUnit {
  return unit === 'count' || unit === 'number' || unit === 'percent' || unit === 'seconds';
}

export function isTimeUnit(unit: ValueUnit): unit is 'date' | 'datetime' {
  return unit === 'date' || unit === 'datetime';
}

export type MeasureUnit = 'count' | 'number' | 'percent' | 'seconds';

/** A measured value (a KPI, a chart value) for display. */
export function formatMeasure(value: number | null | undefined, unit: MeasureUnit): string {
  if (value === null || value === undefined) return NO_VALUE;
  switch (unit) {
    case 'count':
      return formatCount(value);
    case 'number':
      return formatNumber(value);
    case 'percent':
      return formatPercent(value);
    case 'seconds':
      return formatSeconds(value);
  }
}

/** A value for display, by its unit; instants in the zone. Text that is not a number stays as it is. */
export function formatValue(value: CellValue | undefined, unit: ValueUnit, timeZone: string): string {
  if (value === null || value === undefined) return NO_VALUE;
  if (typeof value === 'string') return value;
  switch (unit) {
    case 'count':
    case 'number':
    case 'percent':
    case 'seconds':
      return formatMeasure(value, unit);
    case 'date':
      return formatDate(value, timeZone);
    case 'datetime':
      return formatDateTime(value, timeZone);
    case 'text':
      return String(value);
  }
}

/** "2026-11-01 – 2026-11-30" or "2026-11-01 – 2026-11-30 (in progress)". */
export function periodText(period: ReportPeriod): string {
  return period.inProgress ? `${period.label} (${IN_PROGRESS})` : period.label;
}

/** "Generated 2026-11-30 14:05 (Europe/Berlin)". */
export function generatedText(doc: Pick<ReportDocument, 'generatedAt' | 'timezone'>): string {
  return `Generated ${formatDateTime(doc.generatedAt, doc.timezone)} (${doc.timezone})`;
}

/** A column header that names the zone its dates are in: "Day (Europe/Berlin)". */
export function headerWithZone(label: string, unit: ValueUnit, timeZone: string): string {
  return isTimeUnit(unit) ? `${label} (${timeZone})` : label;
}
