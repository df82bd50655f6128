/**
 * A sample report for the renderers' tests (and for looking at the output): KPIs, a daily line
 * chart whose last day is in progress, a top-N bar chart, a table with CJK, Cyrillic and Hangul
 * names and a formula-looking cell, a daily table with an in-progress row, and an event export
 * streamed as an async iterable. Placed at a chosen "now", never at the wall clock.
 */
import type { CellValue, ReportDocument, TableColumn } from '../report-document.js';

export const FIXTURE_ZONE = 'Europe/Berlin';
/** The chosen now: 2026-11-30 14:05 in Berlin (13:05 UTC). */
export const FIXTURE_NOW = Date.UTC(2026, 10, 30, 13, 5, 0);
const DAY = 86_400_000;
/** 2026-11-01 00:00 in Berlin (UTC+1 in November). */
const PERIOD_FROM = Date.UTC(2026, 9, 31, 23, 0, 0);
const DAYS = 30;

/** A small deterministic generator, so every run draws the same numbers. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

export const MIXED_NAME = 'signup 注册 регистрация 가입';
export const FORMULA_CELL = '=1+2';
export const LONG_NAME =
  'checkout_completed_with_a_very_long_event_name_that_needs_to_be_cut_because_it_does_not_fit_in_its_column';

export const TOP_EVENTS_COLUMNS: TableColumn[] = [
  { key: 'event', label: 'Event', unit: 'text' },
  { key: 'count', label: 'Events', unit: 'count' },
  { key: 'share', label: 'Share', unit: 'percent' },
  { key: 'duration', label: 'Avg. duration', unit: 'seconds' },
  { key: 'change', label: 'Change', unit: 'number' },
  { key: 'lastSeen', label: 'Last seen', unit: 'datetime' },
];

export const TOP_EVENTS_ROWS: CellValue[][] = [
  ['page_view', 812_345, 65.8, 12.5, 1204, FIXTURE_NOW - 60_000],
  [MIXED_NAME, 120_456, 9.76, 245, -5, FIXTURE_NOW - 3_600_000],
  ['购买 purchase', 98_765, 8, 3725, 0.25, FIXTURE_NOW - 2 * DAY],
  ['Заказ оформлен', 76_543, 6.2, 48, -12.5, FIXTURE_NOW - 5 * DAY],
  ['결제 완료', 54_321, 4.4, 90, 3, FIXTURE_NOW - 7 * DAY],
  [FORMULA_CELL, 1_234, 0.1, null, null, null],
  [LONG_NAME, 42, 0.003, 0.8, 7.125, FIXTURE_NOW - 10 * DAY],
];

export const EXPORT_COLUMNS: TableColumn[] = [
  { key: 'time', label: 'Time', unit: 'datetime' },
  { key: 'event', label: 'Event', unit: 'text' },
  { key: 'user', label: 'User', unit: 'text' },
  { key: 'value', label: 'Value', unit: 'number' },
];

const EXPORT_EVENTS = ['page_view', 'signup 注册', 'purchase', 'Заказ', '결제', '-refund', '@mention'];

/** Row i of the event export (deterministic, so a test can recompute any row). */
export function exportRow(i: number): CellValue[] {
  return [
    PERIOD_FROM + i * 60_000,
    EXPORT_EVENTS[i % EXPORT_EVENTS.length],
    `user-${(i * 7919) % 10_007}`,
    i % 5 === 0 ? -((i % 97) + 1) / 4 : (i % 1013) * 1.5,
  ];
}

/** The event export as the store would stream it: rows produced one at a time, never all held. */
export async function* exportRows(count: number): AsyncIterable<CellValue[]> {
  for (let i = 0; i < count; i++) {
    if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    yield exportRow(i);
  }
}

export interface FixtureOptions {
  /** Rows of the streamed export table (default 2,000). */
  exportRows?: number;
}

export function sampleReport(options: FixtureOptions = {}): ReportDocument {
  const random = seeded(15);
  const days = Array.from({ length: DAYS }, (_, i) => PERIOD_FROM + i * DAY);
  const dayLabels = days.map((_, i) => `2026-11-${String(i + 1).padStart(2, '0')}`);
  const signups = days.map((_, i) => Math.round(900 + 300 * Math.sin(i / 3) + 200 * random()));
  const purchases = signups.map((n) => Math.round(n * (0.35 + 0.1 * random())));
  // The last day is in progress: its figures are partial (about 14 of 24 hours).
  signups[DAYS - 1] = Math.round(signups[DAYS - 1] * 0.58);
  purchases[DAYS - 1] = Math.round(purchases[DAYS - 1] * 0.58);

  return {
    title: 'Weekly product report',
    subtitle: 'Event summary',
    generatedAt: FIXTURE_NOW,
    timezone: FIXTURE_ZONE,
    period: { from: PERIOD_FROM, to: PERIOD_FROM + DAYS * DAY, label: '2026-11-01 – 2026-11-30', inProgress: true },
    parameters: [
      { label: 'Events', value: `page_view, ${MIXED_NAME}, purchase` },
      { label: 'Segment', value: 'All users' },
    ],
    sections: [
      {
        kind: 'kpis',
        title: 'Key figures',
        kpis: [
          { label: 'Events', value: 1_234_567, unit: 'count', note: 'vs. 1,204,113 the period before' },
          { label: 'Users', value: 45_210, unit: 'count' },
          { label: 'Conversion', value: 45.2, unit: 'percent', note: 'in progress' },
          { label: 'Avg. session', value: 245, unit: 'seconds' },
          { label: 'Events per user', value: 27.3076, unit: 'number' },
          { label: 'Bounce rate', value: null, unit: 'percent', note: 'no sessions yet' },
        ],
      },
      {
        kind: 'chart',
        title: 'Events per day',
        chart: {
          type: 'line',
          categories: dayLabels,
          series: [
            { name: 'signup 注册', values: signups },
            { name: 'purchase', values: purchases },
          ],
          unit: 'count',
          inProgressFrom: DAYS - 1,
        },
      },
      {
        kind: 'chart',
        title: 'Top events',
        chart: {
          type: 'hbar',
          categories: TOP_EVENTS_ROWS.map((row) => String(row[0])),
          series: [{ name: 'Events', values: TOP_EVENTS_ROWS.map((row) => row[1] as number) }],
          unit: 'count',
        },
      },
      {
        kind: 'table',
        title: 'Top events',
        table: { name: 'Top events', columns: TOP_EVENTS_COLUMNS, rows: TOP_EVENTS_ROWS },
      },
      {
        kind: 'table',
        title: 'Daily',
        table: {
          name: 'Daily',
          columns: [
            { key: 'day', label: 'Day', unit: 'date' },
            { key: 'signups', label: 'signup 注册', unit: 'count' },
            { key: 'purchases', label: 'purchase', unit: 'count' },
            { key: 'conversion', label: 'Conversion', unit: 'percent' },
          ],
          rows: days.map((day, i) => [day, signups[i], purchases[i], Math.round((purchases[i] / signups[i]) * 1000) / 10]),
          inProgressRow: DAYS - 1,
        },
      },
      {
        kind: 'table',
        title: 'Events export',
        table: { name: 'Events', columns: EXPORT_COLUMNS, rows: exportRows(options.exportRows ?? 2_000) },
      },
    ],
  };
}
