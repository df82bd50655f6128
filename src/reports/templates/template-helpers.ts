import type { MetricDefinition as MetricDto, MetricData, MetricDataQuery, MetricPoint } from '../../metrics/index.js';
import type { ChartSpec } from '../charts/chart-spec.js';
import { localDay, type ResolvedPeriod } from '../report-period.js';
import type { TemplateContext } from './report-template.js';

/** A custom metrics query over the report's period: its zone, its interval, empty buckets as 0. */
export function periodQuery(period: ResolvedPeriod, extra: Partial<MetricDataQuery> = {}): MetricDataQuery {
  return { from: period.from, to: period.to, interval: period.interval, timezone: period.timezone, groupBy: [], other: false, fill: true, ...extra };
}

/** An ad-hoc metric's answer, through the same code path as /api/metrics/:id/data. */
export function evaluate(ctx: TemplateContext, definition: Partial<MetricDto> & Pick<MetricDto, 'aggregation'>, extra: Partial<MetricDataQuery> = {}): Promise<MetricData> {
  const dto = { name: 'report', type: 'counter', filters: [], ...definition } as MetricDto;
  return ctx.services.metrics.evaluate(ctx.accountId, dto, periodQuery(ctx.period, extra));
}

/** A bucket's label in the report's zone: the local date, or date and hour. */
export function bucketLabel(t: string | number, period: ResolvedPeriod): string {
  const instant = typeof t === 'number' ? t : Date.parse(t);
  if (period.interval !== 'hour') return localDay(instant, period.timezone);
  const hour = new Intl.DateTimeFormat('en-GB', { timeZone: period.timezone, hour: '2-digit', hourCycle: 'h23' }).format(new Date(instant));
  return `${localDay(instant, period.timezone)} ${hour}:00`;
}

/** The index of the bucket still under way (the one `asOf` falls in), when the period is not over. */
export function inProgressIndex(points: { t: string }[], period: ResolvedPeriod): number | undefined {
  if (!period.inProgress) return undefined;
  let index: number | undefined;
  points.forEach((p, i) => {
    if (Date.parse(p.t) <= period.asOf) index = i;
  });
  return index ?? 0;
}

/** The points of a metric answer's one series (none: empty). */
export const pointsOf = (data: MetricData): MetricPoint[] => data.series[0]?.points ?? [];

/** A line chart of several series sharing the report's buckets. */
export function lineChart(period: ResolvedPeriod, series: { name: string; points: MetricPoint[] }[], unit: ChartSpec['unit'] = 'count'): ChartSpec {
  const base = series[0]?.points ?? [];
  const from = inProgressIndex(base, period);
  return {
    type: 'line',
    categories: base.map((p) => bucketLabel(p.t, period)),
    series: series.map((s) => ({ name: s.name, values: s.points.map((p) => p.value) })),
    unit,
    ...(from !== undefined ? { inProgressFrom: from } : {}),
  };
}

/** Division that answers null instead of NaN or Infinity. */
export const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a === null || a === undefined || !b ? null : Math.round((a / b) * 10_000) / 100;

export const numberOr0 = (v: number | null | undefined): number => (v === null || v === undefined ? 0 : Number(v));
