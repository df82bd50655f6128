import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import { EVENTS_STORE, type EventsStore } from '../infrastructure/clickhouse/events-store.port.js';
import { ParamBag } from '../infrastructure/clickhouse/query/query-kit.js';
import { ROLLUP_TABLE } from '../infrastructure/clickhouse/schema/tables.js';
import { MetricsService } from '../metrics/index.js';
import type { AlertDocument, Observation } from './alert.types.js';
import { judgeChange, judgeThreshold } from './alert-conditions.js';
import { previousWindow, type Window } from './alert-window.js';
import { baselinePlan, type BaselinePlan, DEFAULT_ANOMALY, judgeAnomaly } from './anomaly.js';

/** How long an account's first-event time is reused before it is read again. */
const HISTORY_START_TTL_MS = 10 * 60_000;
/** Windows asked for in one query (a backtest asks for many). */
const WINDOWS_PER_QUERY = 200;

/** What a definition needs to be judged (a saved alert, or one being previewed). */
export type Judged = Pick<AlertDocument, 'accountId' | 'metricId' | 'dimension' | 'condition' | 'threshold' | 'anomaly' | 'windowMs' | 'timezone'>;

/**
 * Turns an alert's windows into observations: the metric's value in each (one query for all,
 * with the windows before them and the baseline windows an anomaly needs), judged by the
 * alert's condition. A failed query makes every window an `error` observation, never an ok.
 */
@Injectable()
export class AlertObserver {
  private readonly historyStarts = new Map<string, { at: number; value: number | null }>();

  constructor(
    private readonly metrics: MetricsService,
    @Inject(EVENTS_STORE) private readonly store: EventsStore,
  ) {}

  async observe(alert: Judged, windows: Window[]): Promise<Observation[]> {
    try {
      return await this.observeOrThrow(alert, windows);
    } catch (err) {
      const message = err instanceof ApiError ? describeApiError(err) : `the metric's query failed: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`;
      return windows.map((w) => ({ windowStart: w.from, windowEnd: w.to, outcome: 'error', value: null, explanation: message }));
    }
  }

  private async observeOrThrow(alert: Judged, windows: Window[]): Promise<Observation[]> {
    const tz = alert.timezone;
    const settings = alert.anomaly ?? DEFAULT_ANOMALY;
    const needed = new Map<number, Window>();
    const need = (w: Window) => needed.set(w.from, w);
    const plans: (BaselinePlan | null)[] = [];
    const historyStart = alert.condition === 'anomaly' ? await this.historyStart(alert.accountId) : null;
    for (const w of windows) {
      need(w);
      if (alert.condition === 'change_pct_up' || alert.condition === 'change_pct_down') need(previousWindow(w, alert.windowMs, tz));
      if (alert.condition === 'anomaly') {
        const plan = baselinePlan(w, settings, tz, historyStart);
        plans.push(plan);
        plan?.windows.forEach(need);
      }
    }
    const values = await this.values(alert, [...needed.values()].sort((a, b) => a.from - b.from));
    const countLike = alert.condition === 'anomaly' && (await this.isCountLike(alert));
    return windows.map((w, i) => {
      const value = values.get(w.from) ?? null;
      const base = { windowStart: w.from, windowEnd: w.to, value };
      switch (alert.condition) {
        case 'anomaly': {
          const plan = plans[i];
          if (!plan) return { ...base, outcome: 'learning', explanation: 'learning: the account has less than 3 days of events, too little for an expected band' };
          return { ...base, ...judgeAnomaly(value, plan, plan.windows.map((s) => values.get(s.from) ?? null), settings, countLike, w, tz) };
        }
        case 'change_pct_up':
        case 'change_pct_down':
          return { ...base, ...judgeChange(alert.condition, value, values.get(previousWindow(w, alert.windowMs, tz).from) ?? null, alert.threshold!) };
        default:
          return { ...base, ...judgeThreshold(alert.condition, value, alert.threshold!) };
      }
    });
  }

  /** The metric's value per window start, asking for at most WINDOWS_PER_QUERY windows at a time. */
  private async values(alert: Judged, windows: Window[]): Promise<Map<number, number | null>> {
    const out = new Map<number, number | null>();
    const where = alert.dimension ? { dimension: alert.dimension.name, value: alert.dimension.value } : undefined;
    for (let i = 0; i < windows.length; i += WINDOWS_PER_QUERY) {
      const chunk = windows.slice(i, i + WINDOWS_PER_QUERY);
      const values = await this.metrics.windowValues(alert.accountId, alert.metricId, chunk, where);
      chunk.forEach((w, j) => out.set(w.from, values[j] ?? null));
    }
    return out;
  }

  /** Counts vary at least by their square root: the band of a count is never narrower. */
  private async isCountLike(alert: Judged): Promise<boolean> {
    const metric = await this.metrics.get(alert.accountId, alert.metricId);
    return !metric.formula && (metric.type === 'histogram' || metric.aggregation === 'count' || metric.aggregation === 'unique');
  }

  /** The minute of the account's first event (from the per-minute rollup), cached for a while. */
  async historyStart(accountId: string, now = Date.now()): Promise<number | null> {
    const cached = this.historyStarts.get(accountId);
    if (cached && now - cached.at < HISTORY_START_TTL_MS) return cached.value;
    const bag = new ParamBag();
    const rows = await this.store.query<{ first: number | null; n: number }>(
      `SELECT toUnixTimestamp(min(minute)) * 1000 AS first, count() AS n FROM ${ROLLUP_TABLE} WHERE account_id = ${bag.bind(accountId, 'String')}`,
      bag.params,
    );
    const row = rows[0];
    const value = row && Number(row.n) > 0 ? Number(row.first) : null;
    this.historyStarts.set(accountId, { at: now, value });
    return value;
  }
}

function describeApiError(err: ApiError): string {
  if (err.status === 404) return 'the metric no longer exists; point the alert at another metric';
  const details = Array.isArray(err.details) ? (err.details as { field: string; message: string }[]).map((d) => `${d.field}: ${d.message}`).join('; ') : '';
  return `the metric cannot be computed: ${err.message}${details ? ` (${details})` : ''}`;
}
