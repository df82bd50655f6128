import type { MetricFilter } from '../../metrics/index.js';
import type { CellValue } from '../report-document.js';
import type { ReportTemplate } from './report-template.js';
import { evaluate, inProgressIndex, lineChart, numberOr0, pointsOf, ratio, bucketLabel } from './template-helpers.js';

/**
 * Totals, top events, unique users and sessions, and a daily (or hourly) series of everything
 * the account received, optionally narrowed by event filters. Every number is a custom metric
 * answered by the metrics service, as `/api/metrics/:id/data` answers the same definition.
 */
export const eventSummaryTemplate: ReportTemplate = {
  name: 'event_summary',
  title: 'Event summary',
  description: 'Totals, top events, unique users and sessions, and a series over the period.',
  parameters: [
    { name: 'dateRange', type: 'dateRange', description: 'The period reported', required: false, default: 'last_7_days' },
    { name: 'filters', type: 'eventFilters', description: 'Only events matching these filters ({field, op, value}, as custom metrics)', required: false, default: [] },
    { name: 'top', type: 'integer', description: 'How many event names the top list shows', required: false, default: 10, min: 1, max: 100 },
  ],
  async build(ctx) {
    const filters = ctx.params.filters as MetricFilter[];
    const top = ctx.params.top as number;
    // One after the other: exact unique counts over millions of events hold their sets in
    // memory, and five at once took some 700 MB more (bench/reports) for little time saved.
    const events = await evaluate(ctx, { aggregation: 'count', filters });
    const users = await evaluate(ctx, { aggregation: 'unique', field: 'users', filters });
    const sessions = await evaluate(ctx, { aggregation: 'unique', field: 'sessions', filters });
    const byName = await evaluate(ctx, { aggregation: 'count', filters, dimensions: ['eventName'] }, { groupBy: ['eventName'], limit: top, fill: false });
    const topNames = byName.series.map((s) => s.group?.eventName ?? '');
    // Unique users of the top events only (none to count in a period without events).
    const usersByName =
      topNames.length === 0
        ? { series: [] }
        : await evaluate(
            ctx,
            { aggregation: 'unique', field: 'users', filters: [...filters, { field: 'eventName', op: 'in', value: topNames }], dimensions: ['eventName'] },
            { groupBy: ['eventName'], fill: false },
          );
    const total = numberOr0(events.totals.value);
    const userCount = numberOr0(users.totals.value);
    const note = ctx.period.inProgress ? 'in progress' : undefined;
    const usersOf = new Map(usersByName.series.map((s) => [s.group?.eventName ?? '', s.total]));
    const topRows = byName.series
      .map((s) => ({ name: s.group?.eventName ?? '', events: numberOr0(s.total) }))
      .sort((a, b) => b.events - a.events || a.name.localeCompare(b.name));
    const days = pointsOf(events);
    const dayUsers = pointsOf(users);
    const daySessions = pointsOf(sessions);
    const current = inProgressIndex(days, ctx.period);
    return {
      parameters: [
        { label: 'Filters', value: filters.length === 0 ? 'none' : filters.map((f) => `${f.field} ${f.op} ${JSON.stringify(f.value ?? '')}`).join('; ') },
      ],
      sections: [
        {
          kind: 'kpis',
          title: 'Totals',
          kpis: [
            { label: 'Events', value: total, unit: 'count', note },
            { label: 'Unique users', value: userCount, unit: 'count', note },
            { label: 'Sessions', value: numberOr0(sessions.totals.value), unit: 'count', note },
            { label: 'Events per user', value: userCount ? Math.round((total / userCount) * 100) / 100 : null, unit: 'number', note },
          ],
        },
        {
          kind: 'chart',
          title: ctx.period.interval === 'hour' ? 'Events and users by hour' : 'Events and users by day',
          chart: lineChart(ctx.period, [
            { name: 'Events', points: days },
            { name: 'Unique users', points: dayUsers },
          ]),
        },
        {
          kind: 'chart',
          title: 'Top events by count',
          chart: { type: 'hbar', categories: topRows.map((r) => r.name), series: [{ name: 'Events', values: topRows.map((r) => r.events) }], unit: 'count' },
        },
        {
          kind: 'table',
          title: 'Top events',
          table: {
            name: 'Top events',
            columns: [
              { key: 'event', label: 'Event', unit: 'text' },
              { key: 'events', label: 'Events', unit: 'count' },
              { key: 'users', label: 'Unique users', unit: 'count' },
              { key: 'share', label: 'Share of events', unit: 'percent' },
            ],
            rows: topRows.map((r): CellValue[] => [r.name, r.events, usersOf.get(r.name) ?? 0, ratio(r.events, total)]),
          },
        },
        {
          kind: 'table',
          title: ctx.period.interval === 'hour' ? 'By hour' : 'By day',
          table: {
            name: ctx.period.interval === 'hour' ? 'By hour' : 'By day',
            columns: [
              { key: 'bucket', label: ctx.period.interval === 'hour' ? 'Hour' : 'Day', unit: 'text' },
              { key: 'events', label: 'Events', unit: 'count' },
              { key: 'users', label: 'Unique users', unit: 'count' },
              { key: 'sessions', label: 'Sessions', unit: 'count' },
            ],
            rows: days.map((p, i): CellValue[] => [bucketLabel(p.t, ctx.period), p.value, dayUsers[i]?.value ?? 0, daySessions[i]?.value ?? 0]),
            ...(current !== undefined ? { inProgressRow: current } : {}),
          },
        },
      ],
    };
  },
};
