import { Inject, Injectable } from '@nestjs/common';
import { isUnknownZoneError, unknownZone } from '../common/time.js';
import { EVENTS_STORE, type EventsStore } from '../infrastructure/clickhouse/events-store.port.js';
import type { BuiltQuery } from '../infrastructure/clickhouse/query/query-kit.js';
import type { InsightsFilter } from './insights-filters.js';
import { breakdownQuery, figuresQuery, firstStart, liveQuery, pageTitlesQuery, pagesQuery } from './insights-query.js';
import type { InsightsRange } from './insights-range.js';
import { removalsQuery, rollupBreakdownQuery, rollupFiguresQuery, rollupPagesQuery } from './rollup-query.js';
import { type CountBy, type FunnelStep, funnelQuery, retentionQuery } from './funnel-retention.query.js';

export interface SessionFigures {
  unique_visitors: number;
  total_sessions: number;
  bounce_rate: number;
  avg_session_duration: number;
  total_screen_views: number;
  views_per_session: number;
}

const FIGURES: (keyof SessionFigures)[] = [
  'unique_visitors',
  'total_sessions',
  'bounce_rate',
  'avg_session_duration',
  'total_screen_views',
  'views_per_session',
];

const useRollups = (filters: InsightsFilter[], options: AnswerOptions) => filters.length === 0 && options.rollups !== false;

function figures(row: Record<string, unknown> | undefined): SessionFigures {
  return Object.fromEntries(FIGURES.map((k) => [k, Number(row?.[k] ?? 0)])) as unknown as SessionFigures;
}

/** The series rows (period '') of figure rows, dated. */
const series = (rows: Record<string, unknown>[]) =>
  rows.filter((r) => r.period === '').map((r) => ({ date: new Date(Number(r.t)).toISOString(), ...figures(r) }));

/**
 * How a question is answered: from the rollups (the default where one covers the question: the
 * session rollups without filters, see rollup-query.ts; profile activity for retention over any
 * event; step events for funnels of event names) or from the sessions' summaries and the events
 * themselves. Tests compare the two.
 */
export interface AnswerOptions {
  rollups?: boolean;
}

/** Web analytics over sessions and page views, answered with OpenPanel's field names. */
@Injectable()
export class InsightsService {
  constructor(@Inject(EVENTS_STORE) private readonly store: EventsStore) {}

  /** The range's figures, the same for the period just before it, and a series per interval. */
  async metrics(accountId: string, range: InsightsRange, filters: InsightsFilter[], options: AnswerOptions = {}) {
    const rows = await this.figures(accountId, range, filters, options, true);
    const period = (name: string) => figures(rows.find((r) => r.period === name));
    return { metrics: period('current'), previous: period('previous'), series: series(rows) };
  }

  async timeseries(accountId: string, range: InsightsRange, filters: InsightsFilter[], options: AnswerOptions = {}) {
    return series(await this.figures(accountId, range, filters, options, false));
  }

  /** Rows (period, t, figures) of figureGroups(). */
  private async figures(accountId: string, range: InsightsRange, filters: InsightsFilter[], options: AnswerOptions, withPeriods: boolean) {
    if (!useRollups(filters, options)) return this.run(figuresQuery(accountId, range, filters, withPeriods));
    const [check] = await this.run(removalsQuery(accountId, firstStart(range, withPeriods), range.to));
    return this.run(rollupFiguresQuery(accountId, range, withPeriods, Number(check?.removed) === 1));
  }

  async live(accountId: string, now = Date.now()) {
    const [row] = await this.run(liveQuery(accountId, now, 5));
    return { visitors: Number(row?.visitors ?? 0) };
  }

  async pages(accountId: string, range: InsightsRange, filters: InsightsFilter[], limit: number, options: AnswerOptions = {}) {
    const rows = await this.run(
      useRollups(filters, options) ? rollupPagesQuery(accountId, range, limit) : pagesQuery(accountId, range, filters, limit),
    );
    const pages = rows.map((r) => ({ origin: String(r.origin), path: String(r.path) }));
    const titles = new Map<string, string>();
    if (pages.length > 0) {
      for (const t of await this.run(pageTitlesQuery(accountId, pages))) titles.set(`${t.origin}\0${t.path}`, String(t.title));
    }
    return rows.map((r) => ({
      title: titles.get(`${r.origin}\0${r.path}`) ?? '',
      origin: String(r.origin),
      path: String(r.path),
      sessions: Number(r.sessions),
      screen_views: Number(r.screen_views),
      bounce_rate: Number(r.bounce_rate),
      avg_duration: Number(r.avg_duration),
    }));
  }

  /** Sessions per value of a dimension of their first event, or `exit` for exit pages. */
  async breakdown(
    accountId: string,
    range: InsightsRange,
    filters: InsightsFilter[],
    dimension: string,
    limit: number,
    options: AnswerOptions = {},
  ) {
    const rows = await this.run(
      useRollups(filters, options)
        ? rollupBreakdownQuery(accountId, range, dimension, limit)
        : breakdownQuery(accountId, range, filters, dimension, limit),
    );
    return rows.map((r) => ({
      name: String(r.name),
      sessions: Number(r.sessions),
      bounce_rate: Number(r.bounce_rate),
      avg_session_duration: Number(r.avg_session_duration),
    }));
  }

  async referrers(accountId: string, range: InsightsRange, filters: InsightsFilter[], limit: number, options: AnswerOptions = {}) {
    const rows = await this.run(
      useRollups(filters, options)
        ? rollupBreakdownQuery(accountId, range, 'referrer_name', limit)
        : breakdownQuery(accountId, range, filters, 'referrer_name', limit, { type: 'referrer_type' }),
    );
    return rows.map((r) => ({
      name: String(r.name),
      type: String(r.type),
      sessions: Number(r.sessions),
      bounce_rate: Number(r.bounce_rate),
      avg_session_duration: Number(r.avg_session_duration),
    }));
  }

  async funnel(
    accountId: string,
    range: InsightsRange,
    steps: FunnelStep[],
    windowMs: number,
    countBy: CountBy,
    options: AnswerOptions = {},
  ) {
    const [row] = await this.run(funnelQuery(accountId, range, steps, windowMs, countBy, options.rollups !== false));
    const counts = steps.map((_, i) => Number(row?.[`c${i}`] ?? 0));
    const rate = (n: number) => (counts[0] ? Math.round((n / counts[0]) * 10_000) / 100 : 0);
    return {
      steps: steps.map((step, i) => ({
        name: step.name,
        count: counts[i]!,
        conversion_rate: rate(counts[i]!),
        dropoff: i === 0 ? 0 : counts[i - 1]! - counts[i]!,
        median_seconds_from_previous: i === 0 || counts[i] === 0 ? null : Number(row?.[`m${i}`]) / 1000,
      })),
      overall_conversion_rate: rate(counts.at(-1)!),
    };
  }

  async retention(
    accountId: string,
    range: InsightsRange,
    countBy: CountBy,
    startEvent?: string,
    returnEvent?: string,
    options: AnswerOptions = {},
  ) {
    const rows = await this.run(retentionQuery(accountId, range, countBy, startEvent, returnEvent, options.rollups !== false));
    const cohorts = new Map<number, { cohort: string; size: number; values: number[] }>();
    for (const r of rows.filter((r) => Number(r.k) === -1)) {
      const c = Number(r.c);
      cohorts.set(c, { cohort: new Date(c).toISOString(), size: Number(r.n), values: new Array(Number(r.last) + 1).fill(0) });
    }
    for (const r of rows.filter((r) => Number(r.k) >= 0)) {
      const cohort = cohorts.get(Number(r.c));
      if (cohort && Number(r.k) < cohort.values.length) cohort.values[Number(r.k)] = Number(r.n);
    }
    return { interval: range.interval, cohorts: [...cohorts.entries()].sort(([a], [b]) => a - b).map(([, c]) => c) };
  }

  private async run(query: BuiltQuery): Promise<Record<string, unknown>[]> {
    try {
      return await this.store.query(query.sql, query.params);
    } catch (err) {
      if (isUnknownZoneError(err)) throw unknownZone();
      throw err;
    }
  }
}
