import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { WRITER_LOCK, type WriterLock } from '../infrastructure/lock/writer-lock.port.js';
import { JOB_QUEUE, type JobQueue } from '../infrastructure/queue/job-queue.port.js';
import { MetricsService } from '../metrics/index.js';
import type { AlertDeliveryDocument, AlertDocument, AlertStateDocument, Channel, NotificationKind, NotificationPayload, Observation } from './alert.types.js';
import { DELIVER_JOB, EVALUATE_JOB } from './alert-jobs.js';
import { AlertObserver } from './alert-observer.js';
import { initialState, step } from './alert-state-machine.js';
import { nextWindow, type Window, windowStart } from './alert-window.js';
import { AlertsRepository } from './alerts.repository.js';
import { ChannelResolver } from './channel-resolver.js';
import { ChannelSender } from './notifiers/channel-sender.js';

/** Tries of a delivery: backoff doubles from 2 s (2, 4, 8, 16 s), then it stays failed in the history. */
const DELIVER_ATTEMPTS = 5;
const DELIVER_BACKOFF_MS = 2000;
/** Tries of an evaluation whose state write lost a race or whose store was briefly down. */
const EVALUATE_ATTEMPTS = 3;

/** How long the windows before `windowEnd` are caught up after a pause: enough for `for`. */
export function windowsToJudge(alert: Pick<AlertDocument, 'windowMs' | 'for' | 'timezone'>, lastWindowEnd: number | undefined, windowEnd: number): Window[] {
  const last: Window = { from: windowStart(windowEnd - 1, alert.windowMs, alert.timezone), to: windowEnd };
  const out: Window[] = [last];
  // A new alert starts with the window that just closed; one that paused judges what it missed, up to `for` windows.
  if (lastWindowEnd === undefined) return out;
  while (out.length < alert.for && out[0]!.from > lastWindowEnd) {
    const first = out[0]!;
    out.unshift({ from: windowStart(first.from - 1, alert.windowMs, alert.timezone), to: first.from });
  }
  return out;
}

/**
 * Runs the alerts' jobs. An evaluation judges an alert's windows up to one that closed, under
 * the alert's lock (on Redis across replicas) and only if that window was not judged yet: so
 * each (alert, window) is judged once, however many replicas ticked. A state change or a due
 * notification is written to the history and the outbox (ids deterministic, so a retry
 * rewrites the same) before the state is saved over the version it was read at, then each
 * delivery is a job of its own: claimed before sending, marked sent after, retried with backoff.
 */
@Injectable()
export class AlertEvaluator implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('alerts');

  constructor(
    private readonly repository: AlertsRepository,
    private readonly observer: AlertObserver,
    private readonly channels: ChannelResolver,
    private readonly sender: ChannelSender,
    private readonly metrics: MetricsService,
    @Inject(WRITER_LOCK) private readonly lock: WriterLock,
    @Inject(JOB_QUEUE) private readonly jobs: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.declare(EVALUATE_JOB);
    this.jobs.declare(DELIVER_JOB);
    if (this.config.role === 'api') return;
    this.jobs.register(EVALUATE_JOB, (p) => this.evaluate(p.alertId, p.windowEnd).then(() => undefined));
    this.jobs.register(DELIVER_JOB, (p, meta) => this.deliver(p.deliveryId, meta.attempt));
  }

  /** The in-process queue forgets its jobs in a crash: deliveries not sent are enqueued again at start. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.role === 'api' || this.jobs.kind !== 'in-process') return;
    for (const d of await this.repository.unsent()) await this.enqueueDelivery(d._id);
  }

  enqueueEvaluation(alertId: string, windowEnd: number): Promise<string> {
    return this.jobs.enqueue(EVALUATE_JOB, { alertId, windowEnd }, { jobId: `alert-eval:${alertId}:${windowEnd}`, attempts: EVALUATE_ATTEMPTS, backoffMs: 1000 });
  }

  private enqueueDelivery(id: string): Promise<string> {
    return this.jobs.enqueue(DELIVER_JOB, { deliveryId: id }, { jobId: `alert-deliver:${id}`, attempts: DELIVER_ATTEMPTS, backoffMs: DELIVER_BACKOFF_MS });
  }

  /**
   * Judges the alert's windows up to the one ending at `windowEnd`; answers how many windows it
   * judged (0 when they were judged already, by this replica or another).
   */
  async evaluate(alertId: string, windowEnd: number, now = Date.now()): Promise<number> {
    const deliveries: string[] = [];
    const judged = await this.lock.run(`alert:${alertId}`, async () => {
      const alert = await this.repository.findById(alertId);
      if (!alert || !alert.enabled) return 0;
      let state = await this.repository.state(alertId);
      if (!state) {
        await this.repository.createState(initialState(alertId, alert.accountId, now));
        state = (await this.repository.state(alertId))!;
      }
      if (state.lastWindowEnd !== undefined && state.lastWindowEnd >= windowEnd) return 0;
      const windows = windowsToJudge(alert, state.lastWindowEnd, windowEnd);
      const observations = await this.observer.observe(alert, windows);
      const readVersion = state.version;
      let current: AlertStateDocument = state;
      for (const obs of observations) {
        const judgement = step(current, obs, alert, now);
        const notify = judgement.notify;
        if (judgement.changedFrom || notify) {
          const notificationId = `${alertId}:${obs.windowEnd}:${notify ?? judgement.next.state}`;
          await this.repository.record({
            _id: `${notificationId}:${judgement.changedFrom ? 'state' : 'notification'}`,
            accountId: alert.accountId,
            alertId,
            at: now,
            type: judgement.changedFrom ? 'state_change' : 'notification',
            ...(judgement.changedFrom ? { from: judgement.changedFrom, to: judgement.next.state } : {}),
            value: obs.value,
            windowStart: obs.windowStart,
            windowEnd: obs.windowEnd,
            explanation: obs.explanation,
            ...(notify ? { notification: notify } : {}),
          });
          if (notify) deliveries.push(...(await this.writeOutbox(alert, judgement.next, obs, notify, notificationId, now)));
        }
        current = judgement.next;
      }
      current.nextDueAt = nextWindow({ from: windows[windows.length - 1]!.from, to: windowEnd }, alert.windowMs, alert.timezone).to + this.config.alerts.evalDelayMs;
      // Over the version read: a write that lost a race (it cannot under the lock, unless the
      // lock expired during a stall) is retried from the start, and finds the window judged.
      if (!(await this.repository.saveState(current, readVersion))) throw new Error(`the state of alert ${alertId} changed during its evaluation`);
      return windows.length;
    });
    for (const id of deliveries) await this.enqueueDelivery(id);
    return judged;
  }

  /** The notification's deliveries, one per channel target, written before anything is sent. */
  private async writeOutbox(alert: AlertDocument, state: AlertStateDocument, obs: Observation, kind: NotificationKind, notificationId: string, now: number): Promise<string[]> {
    const payload = await this.payload(alert, state, obs, kind, notificationId, now);
    const { channels, problems } = await this.channels.resolve(alert.accountId, alert.channels);
    for (const problem of problems) {
      await this.repository.record({
        _id: `${notificationId}:unresolved:${createHash('sha256').update(problem).digest('hex').slice(0, 12)}`,
        accountId: alert.accountId,
        alertId: alert._id,
        at: now,
        type: 'delivery',
        outcome: 'failed',
        detail: problem,
      });
    }
    const ids: string[] = [];
    for (const channel of expand(channels)) {
      const target = channel.type === 'email' ? channel.to[0]! : channel.url;
      const delivery: AlertDeliveryDocument = {
        _id: `${notificationId}:${channel.type}:${createHash('sha256').update(target).digest('hex').slice(0, 16)}`,
        accountId: alert.accountId,
        alertId: alert._id,
        notificationId,
        kind,
        channel,
        payload,
        status: 'pending',
        attempts: 0,
        createdAt: now,
      };
      ids.push((await this.repository.delivery(delivery))._id);
    }
    return ids;
  }

  private async payload(alert: AlertDocument, state: AlertStateDocument, obs: Observation, kind: NotificationKind, id: string, now: number): Promise<NotificationPayload> {
    const metric = await this.metrics.resolve(alert.accountId, alert.metricId);
    const url = `${this.config.publicUrl}/api/alerts/${alert._id}`;
    return {
      id,
      kind,
      alert: { id: alert._id, name: alert.name, severity: alert.severity, url },
      account: alert.accountId,
      state: state.state,
      metric: {
        id: alert.metricId,
        name: metric?.name ?? alert.metricId,
        ...(metric?.unit ? { unit: metric.unit } : {}),
        ...(alert.dimension ? { dimension: alert.dimension } : {}),
      },
      condition: alert.condition,
      value: obs.value,
      ...(obs.bound ? { bound: obs.bound } : {}),
      explanation: obs.explanation,
      window: { from: new Date(obs.windowStart).toISOString(), to: new Date(obs.windowEnd).toISOString(), length: alert.window, timezone: alert.timezone },
      ...(kind !== 'resolved' ? { firingSince: new Date(state.since).toISOString() } : {}),
      at: new Date(now).toISOString(),
    };
  }

  /** Sends one delivery once: claimed first, so two workers never both send it; failures retry with backoff. */
  async deliver(deliveryId: string, attempt = 1): Promise<void> {
    const delivery = await this.repository.deliveryById(deliveryId);
    if (!delivery || delivery.status === 'sent') return;
    const now = Date.now();
    if (!(await this.repository.claim(deliveryId, now))) return;
    const alert = await this.repository.findById(delivery.alertId);
    const outcome = await this.sender.send(delivery, alert?.secret ?? '');
    const givenUp = !outcome.ok && (outcome.permanent || delivery.attempts + 1 >= DELIVER_ATTEMPTS);
    await this.repository.finish(deliveryId, outcome.ok ? 'sent' : givenUp ? 'abandoned' : 'failed', Date.now());
    await this.repository.record({
      _id: `${deliveryId}:attempt:${delivery.attempts + 1}`,
      accountId: delivery.accountId,
      alertId: delivery.alertId,
      at: Date.now(),
      type: 'delivery',
      deliveryId,
      notification: delivery.kind,
      channel: delivery.channel.type,
      target: delivery.channel.type === 'email' ? delivery.channel.to.join(', ') : redactUrl(delivery.channel.url),
      outcome: outcome.ok ? 'sent' : 'failed',
      detail: givenUp ? `${outcome.detail} (given up: ${outcome.permanent ? 'the receiver refused it' : `${delivery.attempts + 1} tries`})` : outcome.detail,
    });
    if (!outcome.ok) {
      this.logger.warn({ alert: delivery.alertId, delivery: deliveryId, attempt, detail: outcome.detail }, 'alert notification not delivered');
      if (!givenUp) throw new Error(`alert notification not delivered: ${outcome.detail}`);
    }
  }
}

/** One delivery per email recipient, so one refused address does not hold back the others. */
function expand(channels: Channel[]): Channel[] {
  const seen = new Set<string>();
  const out: Channel[] = [];
  for (const c of channels.flatMap((c): Channel[] => (c.type === 'email' ? c.to.map((to) => ({ type: 'email', to: [to] })) : [c]))) {
    const key = c.type === 'email' ? `email:${c.to[0]!.toLowerCase()}` : `${c.type}:${c.url}`;
    if (!seen.has(key)) out.push(c), seen.add(key);
  }
  return out;
}

/** A webhook URL in the history without its query string (tokens often live there). */
function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return 'an invalid URL';
  }
}
