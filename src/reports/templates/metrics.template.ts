import { ApiError } from '../../common/api-error.js';
import type { CellValue, ReportSection, ValueUnit } from '../report-document.js';
import type { ReportTemplate } from './report-template.js';
import { bucketLabel, inProgressIndex, lineChart, periodQuery } from './template-helpers.js';

/** How a metric's unit reads in a report. */
function unitOf(unit: string | undefined): ValueUnit {
  if (unit === 'percentage' || unit === 'percent' || unit === '%') return 'percent';
  if (unit === 'seconds' || unit === 's') return 'seconds';
  return 'number';
}

/** Any set of custom metrics: each one's total and series, answered exactly as `/data` answers them. */
export const metricsTemplate: ReportTemplate = {
  name: 'metrics',
  title: 'Custom metrics',
  description: 'Any set of custom metrics with their series and totals.',
  parameters: [
    { name: 'metricIds', type: 'metricIds', description: 'The metrics, in the order shown', required: true },
    { name: 'dateRange', type: 'dateRange', description: 'The period reported', required: false, default: 'last_7_days' },
  ],
  async check(accountId, params, services) {
    const ids = params.metricIds as string[];
    const found = await Promise.all(
      ids.map((id) =>
        services.metrics.get(accountId, id).then(
          () => true,
          (err: unknown) => {
            if (err instanceof ApiError && err.status === 404) return false;
            throw err;
          },
        ),
      ),
    );
    return ids.flatMap((id, i) => (found[i] ? [] : [{ field: `parameters.metricIds[${i}]`, message: `no metric ${id} in this account` }]));
  },
  async build(ctx) {
    const ids = ctx.params.metricIds as string[];
    const answers = await Promise.all(ids.map((id) => ctx.services.metrics.data(ctx.accountId, id, periodQuery(ctx.period))));
    const note = ctx.period.inProgress ? 'in progress' : undefined;
    // The buckets: of any metric with a series (one without events in the period may have none).
    const base = answers.find((a) => a.series[0])?.series[0]?.points ?? [];
    const current = inProgressIndex(base, ctx.period);
    const charts: ReportSection[] = answers.map((a) => ({
      kind: 'chart',
      title: a.metric.name,
      chart: lineChart(
        ctx.period,
        // A metric without events in the period has no series: a line of zeros.
        [{ name: a.metric.name, points: a.series[0]?.points ?? base.map((p) => ({ t: p.t, value: 0 })) }],
        unitOf(a.metric.unit) === 'percent' ? 'percent' : unitOf(a.metric.unit) === 'seconds' ? 'seconds' : 'number',
      ),
    }));
    return {
      parameters: [{ label: 'Metrics', value: answers.map((a) => a.metric.name).join(', ') }],
      sections: [
        { kind: 'kpis', title: 'Totals', kpis: answers.map((a) => ({ label: a.metric.name, value: a.totals.value, unit: unitOf(a.metric.unit), note })) },
        ...charts,
        {
          kind: 'table',
          title: 'Series',
          table: {
            name: 'Series',
            columns: [
              { key: 'bucket', label: ctx.period.interval === 'hour' ? 'Hour' : 'Day', unit: 'text' },
              ...answers.map((a, i) => ({ key: `m${i}`, label: a.metric.name, unit: unitOf(a.metric.unit) })),
            ],
            rows: base.map((p, row): CellValue[] => [bucketLabel(p.t, ctx.period), ...answers.map((a) => a.series[0]?.points[row]?.value ?? 0)]),
            ...(current !== undefined ? { inProgressRow: current } : {}),
          },
        },
      ],
    };
  },
};
