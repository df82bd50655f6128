import { type CountBy, funnelSteps, type InsightsRange } from '../../insights/index.js';
import type { CellValue } from '../report-document.js';
import type { ReportTemplate } from './report-template.js';

const DAY_S = 86_400;

/** An insights funnel: each step's count, conversion, drop-off and median time from the step before. */
export const funnelTemplate: ReportTemplate = {
  name: 'funnel',
  title: 'Funnel',
  description: 'Ordered steps within a window: how many reach each, and how long it takes.',
  parameters: [
    { name: 'steps', type: 'funnelSteps', description: 'Event names, or {name, filters} (2 to 10)', required: true },
    { name: 'window', type: 'integer', description: 'Seconds from the first step within which the others count', required: false, default: DAY_S, min: 1, max: 90 * DAY_S },
    { name: 'countBy', type: 'enum', description: 'Count profiles or sessions', required: false, default: 'profile', values: ['profile', 'session'] },
    { name: 'dateRange', type: 'dateRange', description: 'The period entries are counted in', required: false, default: 'last_7_days' },
  ],
  async build(ctx) {
    const steps = funnelSteps(ctx.params.steps);
    const countBy = ctx.params.countBy as CountBy;
    const range: InsightsRange = { from: ctx.period.from, to: ctx.period.to, interval: 'day', timezone: ctx.period.timezone };
    const answer = await ctx.services.insights.funnel(ctx.accountId, range, steps, (ctx.params.window as number) * 1000, countBy);
    const note = ctx.period.inProgress ? 'in progress' : undefined;
    const first = answer.steps[0]?.count ?? 0;
    return {
      parameters: [
        { label: 'Steps', value: steps.map((s) => (s.filters.length > 0 ? `${s.name} (${s.filters.length} filters)` : s.name)).join(' → ') },
        { label: 'Window', value: `${ctx.params.window} s` },
        { label: 'Counted by', value: countBy },
      ],
      sections: [
        {
          kind: 'kpis',
          title: 'Conversion',
          kpis: [
            { label: `Entered (${steps[0]!.name})`, value: first, unit: 'count', note },
            { label: `Converted (${steps.at(-1)!.name})`, value: answer.steps.at(-1)?.count ?? 0, unit: 'count', note },
            { label: 'Overall conversion', value: answer.overall_conversion_rate, unit: 'percent', note },
          ],
        },
        {
          kind: 'chart',
          title: 'Steps',
          chart: { type: 'bar', categories: answer.steps.map((s) => s.name), series: [{ name: countBy === 'session' ? 'Sessions' : 'Profiles', values: answer.steps.map((s) => s.count) }], unit: 'count' },
        },
        {
          kind: 'table',
          title: 'Steps',
          table: {
            name: 'Steps',
            columns: [
              { key: 'step', label: 'Step', unit: 'text' },
              { key: 'count', label: countBy === 'session' ? 'Sessions' : 'Profiles', unit: 'count' },
              { key: 'conversion', label: 'Conversion', unit: 'percent' },
              { key: 'dropoff', label: 'Drop-off', unit: 'count' },
              { key: 'median', label: 'Median time from previous', unit: 'seconds' },
            ],
            rows: answer.steps.map((s): CellValue[] => [s.name, s.count, s.conversion_rate, s.dropoff, s.median_seconds_from_previous]),
          },
        },
      ],
    };
  },
};
