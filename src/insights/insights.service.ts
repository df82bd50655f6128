import { Inject, Injectable } from '@nestjs/common';
import { EVENTS_STORE, type EventsStore } from '../infrastructure/clickhouse/events-store.port.js';
import type { InsightsFilter } from './insights-filters.js';
import {
  type BuiltQuery,
  breakdownQuery,
  liveQuery,
  metricsQuery,
  pagesQuery,
  referrersQuery,
  timeseriesQuery,
} from './insights-query.js';
import type { InsightsRange } from './insights-range.js';

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

function figures(row: Record<string, unknown> | undefined): SessionFigures {
  return Object.fromEntries(FIGURES.map((k) => [k, Number(row?.[k] ?? 0)])) as unknown as SessionFigures;
}

/** Web analytics over sessions and page views, answered with OpenPanel's field names. */
@Injectable()
export class InsightsService {
  constructor(@Inject(EVENTS_STORE) private readonly store: EventsStore) {}

  /** The range's figures, the same for the period just before it, and a series per interval. */
  async metrics(accountId: string, range: InsightsRange, filters: InsightsFilter[]) {
    const span = range.to - range.from;
    const [current, previous, series] = await Promise.all([
      this.run(metricsQuery(accountId, range.from, range.to, filters)),
      this.run(metricsQuery(accountId, range.from - span, range.from, filters)),
      this.timeseries(accountId, range, filters),
    ]);
    return { metrics: figures(current[0]), previous: figures(previous[0]), series };
  }

  async timeseries(accountId: string, range: InsightsRange, filters: InsightsFilter[]) {
    const rows = await this.run(timeseriesQuery(accountId, range, filters));
    return rows.map((r) => ({ date: new Date(Number(r.t)).toISOString(), ...figures(r) }));
  }

  async live(accountId: string, now = Date.now()) {
    const [row] = await this.run(liveQuery(accountId, now, 5));
    return { visitors: Number(row?.visitors ?? 0) };
  }

  async pages(accountId: string, range: InsightsRange, filters: InsightsFilter[], limit: number) {
    const rows = await this.run(pagesQuery(accountId, range, filters, limit));
    return rows.map((r) => ({
      title: String(r.title),
      origin: String(r.origin),
      path: String(r.path),
      sessions: Number(r.sessions),
      screen_views: Number(r.screen_views),
      bounce_rate: Number(r.bounce_rate),
      avg_duration: Number(r.avg_duration),
    }));
  }

  /** Sessions per value of a dimension of their first event, or `exit` for exit pages. */
  async breakdown(accountId: string, range: InsightsRange, filters: InsightsFilter[], dimension: string, limit: number) {
    const rows = await this.run(breakdownQuery(accountId, range, filters, dimension, limit));
    return rows.map((r) => ({
      name: String(r.name),
      sessions: Number(r.sessions),
      bounce_rate: Number(r.bounce_rate),
      avg_session_duration: Number(r.avg_session_duration),
    }));
  }

  async referrers(accountId: string, range: InsightsRange, filters: InsightsFilter[], limit: number) {
    const rows = await this.run(referrersQuery(accountId, range, filters, limit));
    return rows.map((r) => ({
      name: String(r.name),
      type: String(r.type),
      sessions: Number(r.sessions),
      bounce_rate: Number(r.bounce_rate),
      avg_session_duration: Number(r.avg_session_duration),
    }));
  }

  private run(query: BuiltQuery): Promise<Record<string, unknown>[]> {
    return this.store.query(query.sql, query.params);
  }
}
