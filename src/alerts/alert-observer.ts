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
/**
 * How long a window's value is reused. Alerts on the same metric (a warning and a critical
 * threshold, one per dimension value, a threshold and an anomaly) judge the same windows within
 * seconds of each other in a tick: one query answers them all. Windows are judged after they
 * closed (plus ALERTS_EVAL_DELAY), so a value a few seconds old is the value.
 */
const VALUE_TTL_MS = 30_000;
const MAX_CACHED_VALUES = 50_000;

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
  /** Window values by metric (and version), dimension value and window; in flight ones too, so concurrent evaluations share one query. */
  private readonly values_ = new Map<string, { at: number; value: Promise<number | null> }>();
  /** Windows answered from the cache, and ones queried (counted for the bench). */
  readonly stats = { cached: 0, queried: 0, queries: 0 };

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
    // The definition once per evaluation: it keys the cached values and says whether it counts.
    const metric = await this.metrics.get(alert.accountId, alert.metricId); // 404 when deleted: an error observation
    const values = await this.values(alert, metric, [...needed.values()].sort((a, b) => a.from - b.from));
    const countLike = alert.condition === 'anomaly' && isCountLike(metric);
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

  /**
   * The metric's value per window start: from the cache where a recent query (of this or
   * another alert of the metric) answered the window, else queried, at most WINDOWS_PER_QUERY
   * windows at a time.
   */
  private async values(alert: Judged, metric: MetricRef, windows: Window[]): Promise<Map<number, number | null>> {
    const where = alert.dimension ? { dimension: alert.dimension.name, value: alert.dimension.value } : undefined;
    const prefix = `${alert.accountId}|${metric.id}|${metric.version}|${where ? `${where.dimension}=${where.value}` : ''}|`;
    const now = Date.now();
    const out = new Map<number, Promise<number | null>>();
    const missing: Window[] = [];
    for (const w of windows) {
      const hit = this.values_.get(`${prefix}${w.from}-${w.to}`);
      if (hit && now - hit.at < VALUE_TTL_MS) {
        out.set(w.from, hit.value);
        this.stats.cached++;
      } else missing.push(w);
    }
    for (let i = 0; i < missing.length; i += WINDOWS_PER_QUERY) {
      const chunk = missing.slice(i, i + WINDOWS_PER_QUERY);
      this.stats.queries++;
      this.stats.queried += chunk.length;
      const answer = this.metrics.windowValues(alert.accountId, alert.metricId, chunk, where);
      chunk.forEach((w, j) => {
        const value = answer.then((values) => values[j] ?? null);
        // Awaited below (and by other evaluations): marked handled so a failure is not "unhandled" when one is never awaited.
        value.catch(() => undefined);
        out.set(w.from, value);
        this.values_.set(`${prefix}${w.from}-${w.to}`, { at: now, value });
      });
      // A failed query is not kept: the next evaluation asks again.
      answer.catch(() => chunk.forEach((w) => this.values_.delete(`${prefix}${w.from}-${w.to}`)));
    }
    this.prune(now);
    const resolved = new Map<number, number | null>();
    for (const [from, value] of out) resolved.set(from, await value);
    return resolved;
  }

  /** Forgets every cached window value (the bench measures evaluations that share nothing). */
  forgetValues(): void {
    this.values_.clear();
  }

  private prune(now: number): void {
    if (this.values_.size < MAX_CACHED_VALUES) return;
    for (const [key, entry] of this.values_) if (now - entry.at >= VALUE_TTL_MS) this.values_.delete(key);
    // Still full of fresh values (a huge backtest): drop the oldest half.
    if (this.values_.size >= MAX_CACHED_VALUES) [...this.values_.keys()].slice(0, this.values_.size >> 1).forEach((k) => this.values_.delete(k));
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

type MetricRef = Awaited<ReturnType<MetricsService['get']>>;

/** Counts vary at least by their square root: the band of a count is never narrower. */
function isCountLike(metric: MetricRef): boolean {
  return !metric.formula && (metric.type === 'histogram' || metric.aggregation === 'count' || metric.aggregation === 'unique');
}

function describeApiError(err: ApiError): string {
  if (err.status === 404) return 'the metric no longer exists; point the alert at another metric';
  const details = Array.isArray(err.details) ? (err.details as { field: string; message: string }[]).map((d) => `${d.field}: ${d.message}`).join('; ') : '';
  return `the metric cannot be computed: ${err.message}${details ? ` (${details})` : ''}`;
}
