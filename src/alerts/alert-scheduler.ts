import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Cron, SchedulerRegistry } from '@nestjs/schedule';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { AlertEvaluator } from './alert-evaluator.js';
import { lastCompleteWindow, nextWindow } from './alert-window.js';
import { AlertsRepository } from './alerts.repository.js';

const DAY = 86_400_000;
/** Alerts one tick looks at (the most overdue first); the rest wait for the next tick. */
const TICK_BATCH = 5000;

/**
 * The evaluation tick (every ALERTS_EVAL_INTERVAL seconds, with @nestjs/schedule, on every
 * worker): it finds the alerts whose next window has closed (plus ALERTS_EVAL_DELAY for late
 * events) and enqueues one evaluation job each, keyed by alert and window. It never evaluates
 * itself, so a slow query delays no other alert; replicas that tick together enqueue the same
 * keys, and the evaluation judges a window only once.
 */
@Injectable()
export class AlertScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('alert-scheduler');
  private ticking = false;

  constructor(
    private readonly repository: AlertsRepository,
    private readonly evaluator: AlertEvaluator,
    private readonly registry: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.role === 'api') return;
    const timer = setInterval(() => void this.tick().catch((err: unknown) => this.logger.error({ err }, 'alert tick failed')), this.config.alerts.evalIntervalMs);
    this.registry.addInterval('alerts-tick', timer);
  }

  onApplicationShutdown(): void {
    if (this.registry.doesExist('interval', 'alerts-tick')) this.registry.deleteInterval('alerts-tick');
  }

  /** Enqueues the evaluations due at `now`; answers how many. */
  async tick(now = Date.now()): Promise<number> {
    if (this.ticking) return 0;
    this.ticking = true;
    let enqueued = 0;
    try {
      const due = await this.repository.due(now, TICK_BATCH);
      if (due.length === 0) return 0;
      const alerts = new Map((await this.repository.byIds(due.map((s) => s._id))).map((a) => [a._id, a]));
      for (const state of due) {
        const alert = alerts.get(state._id);
        if (!alert || !alert.enabled) {
          await this.repository.schedule(state._id, undefined);
          continue;
        }
        const window = lastCompleteWindow(now, alert.windowMs, alert.timezone, this.config.alerts.evalDelayMs);
        if (state.lastWindowEnd !== undefined && state.lastWindowEnd >= window.to) {
          // Judged already (its due time was set before a change of window): look again when the next one closes.
          await this.repository.schedule(state._id, nextWindow(window, alert.windowMs, alert.timezone).to + this.config.alerts.evalDelayMs);
          continue;
        }
        await this.evaluator.enqueueEvaluation(alert._id, window.to);
        // Not due again before the next window closes: when evaluations fall behind the ticks,
        // the queue holds one job per alert and window, and a later one catches up what a slow
        // one left (up to `for` windows), instead of the same window being enqueued every tick.
        await this.repository.schedule(state._id, nextWindow(window, alert.windowMs, alert.timezone).to + this.config.alerts.evalDelayMs);
        enqueued++;
      }
    } finally {
      this.ticking = false;
    }
    return enqueued;
  }

  /** Once a day: history entries and finished deliveries older than ALERTS_HISTORY_DAYS go. */
  @Cron('0 37 3 * * *', { name: 'alerts-prune' })
  async onPrune(): Promise<void> {
    if (this.config.role === 'api') return;
    const removed = await this.prune();
    if (removed > 0) this.logger.log({ removed, historyDays: this.config.alerts.historyDays }, 'pruned alert history');
  }

  prune(now = Date.now()): Promise<number> {
    return this.repository.pruneHistory(now - this.config.alerts.historyDays * DAY);
  }
}
