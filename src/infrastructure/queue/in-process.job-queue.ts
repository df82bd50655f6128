import { randomUUID } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import { type JobHandler, type JobName, type JobOptions, type JobPayloads, type JobQueue, JobRegistry } from './job-queue.port.js';

interface QueuedJob {
  id: string;
  name: string;
  payload: unknown;
  attempt: number;
  attempts: number;
  backoffMs: number;
}

export interface JobEvents {
  failed(job: { id: string; name: string; attempt: number }, err: unknown, willRetry: boolean): void;
}

/**
 * Jobs run in this process (one replica: ROLE=all without REDIS_URL), at most `concurrency` at
 * once, with exponential backoff retries; cron schedules fire from timers.
 */
export class InProcessJobQueue<M extends object = JobPayloads> implements JobQueue<M> {
  readonly kind = 'in-process' as const;
  private readonly registry = new JobRegistry();
  private readonly waiting: QueuedJob[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly schedules = new Map<string, NodeJS.Timeout>();
  private readonly idle = new Set<() => void>();
  private running = 0;
  private started = false;
  private closed = false;

  constructor(
    private readonly events: JobEvents,
    private readonly concurrency = 2,
  ) {}

  declare(name: JobName<M>): void {
    this.registry.declare(name);
  }

  register<N extends JobName<M>>(name: N, handler: JobHandler<M[N]>): void {
    this.registry.register(name, handler);
  }

  async enqueue<N extends JobName<M>>(name: N, payload: M[N], options: JobOptions = {}): Promise<string> {
    this.registry.assertDeclared(name);
    if (this.closed) throw new Error('job queue is closed');
    const id = options.jobId ?? randomUUID();
    if (options.jobId && this.waiting.some((j) => j.id === id)) return id;
    const job: QueuedJob = {
      id,
      name,
      payload: structuredClone(payload),
      attempt: 0,
      attempts: Math.max(1, options.attempts ?? 3),
      backoffMs: options.backoffMs ?? 1000,
    };
    this.later(options.delayMs ?? 0, () => this.push(job));
    return id;
  }

  async schedule<N extends JobName<M>>(name: N, cron: string, payload: M[N], options: { timezone?: string } = {}): Promise<void> {
    this.registry.assertDeclared(name);
    const expression = CronExpressionParser.parse(cron, { tz: options.timezone ?? 'UTC' });
    const existing = this.schedules.get(name);
    if (existing) clearTimeout(existing);
    const arm = () => {
      const delay = Math.max(0, expression.next().getTime() - Date.now());
      const t = setTimeout(() => {
        void this.enqueue(name, payload, { jobId: `cron:${name}` });
        arm();
      }, delay);
      t.unref();
      this.schedules.set(name, t);
    };
    arm();
  }

  async start(): Promise<void> {
    this.registry.assertComplete();
    this.started = true;
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of [...this.timers, ...this.schedules.values()]) clearTimeout(t);
    this.timers.clear();
    this.schedules.clear();
    this.waiting.length = 0;
    while (this.running > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  private push(job: QueuedJob): void {
    if (this.closed) return;
    this.waiting.push(job);
    this.pump();
  }

  private pump(): void {
    while (this.started && this.running < this.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      const handler = this.registry.handlers.get(job.name)!;
      this.running++;
      job.attempt++;
      void handler(job.payload, { attempt: job.attempt, jobId: job.id })
        .catch((err: unknown) => {
          const willRetry = job.attempt < job.attempts && !this.closed;
          this.events.failed(job, err, willRetry);
          if (willRetry) this.later(job.backoffMs * 2 ** (job.attempt - 1), () => this.push(job));
        })
        .finally(() => {
          this.running--;
          for (const resolve of this.idle) resolve();
          this.idle.clear();
          this.pump();
        });
    }
  }

  private later(ms: number, fn: () => void): void {
    if (ms <= 0) return void queueMicrotask(fn);
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    // Not unref'd: a pending retry is work the process still has to do (close() clears it).
    this.timers.add(t);
  }
}
