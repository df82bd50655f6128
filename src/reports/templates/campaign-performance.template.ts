import type { MetricFilter } from '../../metrics/index.js';
import type { CellValue, Kpi } from '../report-document.js';
import type { ReportTemplate } from './report-template.js';
import { bucketLabel, evaluate, inProgressIndex, lineChart, numberOr0, pointsOf, ratio } from './template-helpers.js';

/**
 * One campaign's events: by name, unique users, the conversion through its stages (sent →
 * delivered → read by default) where those events exist, and a daily trend. The campaign is the
 * events whose `campaignField` property (default `campaignId`) equals `campaignId`.
 */
export const campaignPerformanceTemplate: ReportTemplate = {
  name: 'campaign_performance',
  title: 'Campaign performance',
  description: "A campaign's events by name, unique users, its stage-by-stage conversion and daily trend.",
  parameters: [
    { name: 'campaignId', type: 'string', description: 'The campaign', required: true, min: 1, max: 200 },
    { name: 'campaignField', type: 'string', description: 'The event field or property holding the campaign id', required: false, default: 'campaignId', min: 1, max: 200 },
    { name: 'dateRange', type: 'dateRange', description: 'The period reported', required: false, default: 'last_30_days' },
    {
      name: 'stages',
      type: 'eventNames',
      description: 'The events of the conversion, in order',
      required: false,
      default: ['message_sent', 'message_delivered', 'message_read'],
    },
  ],
  async check(_accountId, params, services) {
    return services.metrics.filterProblems([{ field: params.campaignField, op: 'eq', value: params.campaignId }], 'parameters.campaignField');
  },
  async build(ctx) {
    const filters: MetricFilter[] = [{ field: ctx.params.campaignField as string, op: 'eq', value: ctx.params.campaignId as string }];
    const stages = ctx.params.stages as string[];
    const [events, users, byName, usersByName, stageSeries] = await Promise.all([
      evaluate(ctx, { aggregation: 'count', filters }),
      evaluate(ctx, { aggregation: 'unique', field: 'users', filters }),
      evaluate(ctx, { aggregation: 'count', filters, dimensions: ['eventName'] }, { groupBy: ['eventName'], fill: false }),
      evaluate(ctx, { aggregation: 'unique', field: 'users', filters, dimensions: ['eventName'] }, { groupBy: ['eventName'], fill: false }),
      Promise.all(stages.map((name) => evaluate(ctx, { aggregation: 'count', eventName: name, filters }))),
    ]);
    const total = numberOr0(events.totals.value);
    const note = ctx.period.inProgress ? 'in progress' : undefined;
    const stageCounts = stageSeries.map((s) => numberOr0(s.totals.value));
    // The conversion shows only when the campaign has its first stage's events.
    const converts = stageCounts[0]! > 0;
    const usersOf = new Map(usersByName.series.map((s) => [s.group?.eventName ?? '', s.total]));
    const names = byName.series
      .map((s) => ({ name: s.group?.eventName ?? '', events: numberOr0(s.total) }))
      .sort((a, b) => b.events - a.events || a.name.localeCompare(b.name));
    const stageKpis: Kpi[] = converts
      ? stages.flatMap((name, i): Kpi[] => [
          { label: name, value: stageCounts[i]!, unit: 'count', note },
          ...(i > 0 ? [{ label: `${name} / ${stages[i - 1]}`, value: ratio(stageCounts[i], stageCounts[i - 1]), unit: 'percent' as const, note }] : []),
        ])
      : [];
    const days = pointsOf(events);
    const current = inProgressIndex(days, ctx.period);
    return {
      parameters: [
        { label: 'Campaign', value: `${ctx.params.campaignField} = ${ctx.params.campaignId}` },
        { label: 'Stages', value: stages.join(' → ') },
      ],
      sections: [
        {
          kind: 'kpis',
          title: 'Campaign',
          kpis: [{ label: 'Events', value: total, unit: 'count', note }, { label: 'Unique users', value: numberOr0(users.totals.value), unit: 'count', note }, ...stageKpis],
        },
        ...(converts
          ? [
              {
                kind: 'chart' as const,
                title: 'Conversion',
                chart: { type: 'bar' as const, categories: stages, series: [{ name: 'Events', values: stageCounts }], unit: 'count' as const },
              },
              {
                kind: 'table' as const,
                title: 'Conversion',
                table: {
                  name: 'Conversion',
                  columns: [
                    { key: 'stage', label: 'Stage', unit: 'text' as const },
                    { key: 'events', label: 'Events', unit: 'count' as const },
                    { key: 'previous', label: 'Of the previous stage', unit: 'percent' as const },
                    { key: 'first', label: 'Of the first stage', unit: 'percent' as const },
                  ],
                  rows: stages.map((name, i): CellValue[] => [name, stageCounts[i]!, i === 0 ? null : ratio(stageCounts[i], stageCounts[i - 1]), ratio(stageCounts[i], stageCounts[0])]),
                },
              },
            ]
          : []),
        {
          kind: 'chart',
          title: ctx.period.interval === 'hour' ? 'By hour' : 'By day',
          chart: lineChart(ctx.period, converts ? stages.map((name, i) => ({ name, points: pointsOf(stageSeries[i]!) })) : [{ name: 'Events', points: days }]),
        },
        {
          kind: 'table',
          title: 'Events by name',
          table: {
            name: 'Events by name',
            columns: [
              { key: 'event', label: 'Event', unit: 'text' },
              { key: 'events', label: 'Events', unit: 'count' },
              { key: 'users', label: 'Unique users', unit: 'count' },
            ],
            rows: names.map((r): CellValue[] => [r.name, r.events, usersOf.get(r.name) ?? 0]),
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
              ...stages.map((name) => ({ key: name, label: name, unit: 'count' as const })),
            ],
            rows: days.map((p, i): CellValue[] => [bucketLabel(p.t, ctx.period), p.value, ...stageSeries.map((s) => pointsOf(s)[i]?.value ?? 0)]),
            ...(current !== undefined ? { inProgressRow: current } : {}),
          },
        },
      ],
    };
  },
};
