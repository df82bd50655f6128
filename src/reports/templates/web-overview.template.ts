import { DIMENSION_NAMES, type InsightsFilter, type InsightsRange, parseFilters } from '../../insights/index.js';
import type { CellValue, Kpi, ReportSection, ValueUnit } from '../report-document.js';
import type { ReportTemplate } from './report-template.js';
import { formatValue } from '../render/format.js';
import { bucketLabel, inProgressIndex } from './template-helpers.js';

type Figures = Record<string, number>;
type Row = Record<string, unknown>;

const FIGURES: [key: string, label: string, unit: ValueUnit][] = [
  ['unique_visitors', 'Visitors', 'count'],
  ['total_sessions', 'Sessions', 'count'],
  ['bounce_rate', 'Bounce rate', 'percent'],
  ['avg_session_duration', 'Session duration', 'seconds'],
  ['total_screen_views', 'Page views', 'count'],
  ['views_per_session', 'Views per session', 'number'],
];

/** A breakdown's rows as a table: name, sessions, bounce rate, duration. */
function breakdownTable(name: string, label: string, rows: Row[]): ReportSection {
  return {
    kind: 'table',
    title: name,
    table: {
      name,
      columns: [
        { key: 'name', label, unit: 'text' },
        { key: 'sessions', label: 'Sessions', unit: 'count' },
        { key: 'bounce', label: 'Bounce rate', unit: 'percent' },
        { key: 'duration', label: 'Avg. duration', unit: 'seconds' },
      ],
      rows: rows.map((r): CellValue[] => [String(r.name ?? '') || '(none)', Number(r.sessions), Number(r.bounce_rate), Number(r.avg_session_duration)]),
    },
  };
}

/** The insights overview: visitors, sessions, bounce rate, duration, top pages, referrers, countries, devices. */
export const webOverviewTemplate: ReportTemplate = {
  name: 'web_overview',
  title: 'Web overview',
  description: 'Visitors, sessions, bounce rate and duration, with top pages, referrers, countries and devices.',
  parameters: [
    { name: 'dateRange', type: 'dateRange', description: 'The period reported', required: false, default: 'last_7_days' },
    { name: 'filters', type: 'webFilters', description: 'Sessions whose first event matches ({name, operator, value}, as the insights API)', required: false, default: [] },
    { name: 'top', type: 'integer', description: 'Rows of each top list', required: false, default: 10, min: 1, max: 100 },
  ],
  async build(ctx) {
    const insights = ctx.services.insights;
    const range: InsightsRange = { from: ctx.period.from, to: ctx.period.to, interval: ctx.period.interval, timezone: ctx.period.timezone };
    const filters: InsightsFilter[] = parseFilters(JSON.stringify(ctx.params.filters), DIMENSION_NAMES);
    const top = ctx.params.top as number;
    const [overview, pages, referrers, countries, devices] = await Promise.all([
      insights.metrics(ctx.accountId, range, filters),
      insights.pages(ctx.accountId, range, filters, top),
      insights.referrers(ctx.accountId, range, filters, top),
      insights.breakdown(ctx.accountId, range, filters, 'country', top),
      insights.breakdown(ctx.accountId, range, filters, 'device', top),
    ]);
    const now = overview.metrics as unknown as Figures;
    const before = overview.previous as unknown as Figures;
    const series = overview.series as unknown as (Figures & { date: string })[];
    const note = ctx.period.inProgress ? 'in progress' : undefined;
    const kpis: Kpi[] = FIGURES.map(([key, label, unit]) => ({
      label,
      value: now[key] ?? null,
      unit,
      note: note ?? `previous period: ${formatValue(before[key] ?? 0, unit, ctx.period.timezone)}`,
    }));
    const points = series.map((p) => ({ t: p.date }));
    const current = inProgressIndex(points, ctx.period);
    return {
      parameters: [
        { label: 'Filters', value: filters.length === 0 ? 'none' : filters.map((f) => `${f.name} ${f.operator} ${f.value.join(', ')}`).join('; ') },
      ],
      sections: [
        { kind: 'kpis', title: 'Overview', kpis },
        {
          kind: 'chart',
          title: 'Visitors and sessions',
          chart: {
            type: 'line',
            categories: series.map((p) => bucketLabel(p.date, ctx.period)),
            series: [
              { name: 'Visitors', values: series.map((p) => p.unique_visitors ?? 0) },
              { name: 'Sessions', values: series.map((p) => p.total_sessions ?? 0) },
            ],
            unit: 'count',
            ...(current !== undefined ? { inProgressFrom: current } : {}),
          },
        },
        {
          kind: 'table',
          title: 'Top pages',
          table: {
            name: 'Top pages',
            columns: [
              { key: 'path', label: 'Page', unit: 'text' },
              { key: 'title', label: 'Title', unit: 'text' },
              { key: 'sessions', label: 'Sessions', unit: 'count' },
              { key: 'views', label: 'Views', unit: 'count' },
              { key: 'bounce', label: 'Bounce rate', unit: 'percent' },
              { key: 'duration', label: 'Avg. duration', unit: 'seconds' },
            ],
            rows: (pages as Row[]).map((p): CellValue[] => [
              `${p.origin ?? ''}${p.path ?? ''}`,
              String(p.title ?? ''),
              Number(p.sessions),
              Number(p.screen_views),
              Number(p.bounce_rate),
              Number(p.avg_duration),
            ]),
          },
        },
        {
          kind: 'table',
          title: 'Referrers',
          table: {
            name: 'Referrers',
            columns: [
              { key: 'name', label: 'Referrer', unit: 'text' },
              { key: 'type', label: 'Type', unit: 'text' },
              { key: 'sessions', label: 'Sessions', unit: 'count' },
              { key: 'bounce', label: 'Bounce rate', unit: 'percent' },
              { key: 'duration', label: 'Avg. duration', unit: 'seconds' },
            ],
            rows: (referrers as Row[]).map((r): CellValue[] => [
              String(r.name ?? '') || '(direct)',
              String(r.type ?? ''),
              Number(r.sessions),
              Number(r.bounce_rate),
              Number(r.avg_session_duration),
            ]),
          },
        },
        breakdownTable('Countries', 'Country', countries as Row[]),
        breakdownTable('Devices', 'Device', devices as Row[]),
      ],
    };
  },
};
