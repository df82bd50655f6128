import { type CountBy, eventName, type InsightsRange } from '../../insights/index.js';
import type { CellValue } from '../report-document.js';
import type { ReportTemplate } from './report-template.js';
import { ratio } from './template-helpers.js';
import { localDay } from '../report-period.js';

/** Insights retention: cohorts by first `startEvent`, and how many return each period after. */
export const retentionTemplate: ReportTemplate = {
  name: 'retention',
  title: 'Retention',
  description: 'Cohorts by first activity, and how many came back in each later period.',
  parameters: [
    { name: 'period', type: 'enum', description: 'Cohort and return period', required: false, default: 'week', values: ['day', 'week', 'month'] },
    { name: 'startEvent', type: 'eventName', description: 'The event that puts a profile in a cohort (any event when absent)', required: false },
    { name: 'returnEvent', type: 'eventName', description: 'The event that counts as a return (any event when absent)', required: false },
    { name: 'countBy', type: 'enum', description: 'Count profiles or sessions', required: false, default: 'profile', values: ['profile', 'session'] },
    { name: 'dateRange', type: 'dateRange', description: 'The period cohorts start in', required: false, default: 'last_30_days' },
  ],
  async build(ctx) {
    const period = ctx.params.period as 'day' | 'week' | 'month';
    const range: InsightsRange = { from: ctx.period.from, to: ctx.period.to, interval: period, timezone: ctx.period.timezone };
    const countBy = ctx.params.countBy as CountBy;
    const startEvent = eventName(ctx.params.startEvent, 'parameters.startEvent');
    const returnEvent = eventName(ctx.params.returnEvent, 'parameters.returnEvent');
    const answer = await ctx.services.insights.retention(ctx.accountId, range, countBy, startEvent, returnEvent);
    const width = Math.max(0, ...answer.cohorts.map((c) => c.values.length));
    const size = answer.cohorts.reduce((n, c) => n + c.size, 0);
    // The average return curve: of the cohorts that reached period k, the share that came back.
    const curve = Array.from({ length: width }, (_, k) => {
      const reached = answer.cohorts.filter((c) => c.values.length > k);
      return ratio(
        reached.reduce((n, c) => n + c.values[k]!, 0),
        reached.reduce((n, c) => n + c.size, 0),
      );
    });
    const note = ctx.period.inProgress ? 'in progress' : undefined;
    return {
      parameters: [
        { label: 'Cohorts by', value: period },
        { label: 'Start event', value: startEvent ?? 'any' },
        { label: 'Return event', value: returnEvent ?? 'any' },
        { label: 'Counted by', value: countBy },
      ],
      sections: [
        {
          kind: 'kpis',
          title: 'Cohorts',
          kpis: [
            { label: 'Cohorts', value: answer.cohorts.length, unit: 'count', note },
            { label: countBy === 'session' ? 'Sessions' : 'Profiles', value: size, unit: 'count', note },
            { label: `Back after 1 ${period}`, value: curve[1] ?? null, unit: 'percent', note },
          ],
        },
        {
          kind: 'chart',
          title: 'Average return',
          chart: { type: 'line', categories: curve.map((_, k) => `${period} ${k}`), series: [{ name: 'Returned', values: curve }], unit: 'percent' },
        },
        {
          kind: 'table',
          title: 'Cohorts',
          table: {
            name: 'Cohorts',
            columns: [
              { key: 'cohort', label: 'Cohort', unit: 'text' },
              { key: 'size', label: 'Size', unit: 'count' },
              ...Array.from({ length: width }, (_, k) => ({ key: `p${k}`, label: `${period} ${k}`, unit: 'count' as const })),
            ],
            rows: answer.cohorts.map((c): CellValue[] => [
              localDay(Date.parse(c.cohort), ctx.period.timezone),
              c.size,
              ...Array.from({ length: width }, (_, k) => (k < c.values.length ? c.values[k]! : null)),
            ]),
          },
        },
      ],
    };
  },
};
