import type { Job, Queue } from 'bull';
import { CronExpressionParser } from 'cron-parser';
import type { JobEvents } from './in-process.job-queue.js';
import { type JobHandler, type JobName, type JobOptions, type JobPayloads, type JobQueue, JobRegistry } from './job-queue.port.js';

/**
 * Jobs on Bull (Redis), shared by every replica: any worker takes the next job, retries back off
 * exponentially, and a cron schedule is one repeatable job in Redis, so a tick runs once across
 * all replicas. One queue; JOBS_CONCURRENCY jobs at once per worker process.
 */
export class BullJobQueue<M extends object = JobPayloads> implements JobQueue<M> {
  readonly kind = 'bull' as const;
  private readonly registry = new JobRegistry();

  constructor(
    private readonly queue: Queue,
    private readonly concurrency: number,
    private readonly events: JobEvents,
  ) {}

  declare(name: JobName<M>): void {
    this.registry.declare(name);
  }

  register<N extends JobName<M>>(name: N, handler: JobHandler<M[N]>): void {
    this.registry.register(name, handler);
  }

  async enqueue<N extends JobName<M>>(name: N, payload: M[N], options: JobOptions = {}): Promise<string> {
    this.registry.assertDeclared(name);
    const job = await this.queue.add(name, payload, {
      attempts: Math.max(1, options.attempts ?? 3),
      backoff: { type: 'exponential', delay: options.backoffMs ?? 1000 },
      jobId: options.jobId,
      delay: options.delayMs,
      removeOnComplete: 1000,
      removeOnFail: 5000,
    });
    return String(job.id);
  }

  async schedule<N extends JobName<M>>(name: N, cron: string, payload: M[N], options: { timezone?: string } = {}): Promise<void> {
    this.registry.assertDeclared(name);
    const tz = options.timezone ?? 'UTC';
    CronExpressionParser.parse(cron, { tz }); // a clear error for a bad expression, before Redis sees it
    // Replace an earlier schedule of this name (another cron), so each name has one schedule.
    for (const r of await this.queue.getRepeatableJobs()) {
      if (r.name === name && (r.cron !== cron || r.tz !== tz)) await this.queue.removeRepeatableByKey(r.key);
    }
    await this.queue.add(name, payload, { repeat: { cron, tz }, jobId: `cron:${name}`, removeOnComplete: 100, removeOnFail: 1000 });
  }

  async start(): Promise<void> {
    this.registry.assertComplete();
    this.queue.on('failed', (job: Job, err: Error) => {
      const attempts = job.opts.attempts ?? 1;
      this.events.failed({ id: String(job.id), name: job.name, attempt: job.attemptsMade }, err, job.attemptsMade < attempts);
    });
    // One processor for every name ('*'), dispatching by job name.
    void this.queue.process('*', this.concurrency, async (job: Job) => {
      const handler = this.registry.handlers.get(job.name);
      if (!handler) throw new Error(`no handler for job "${job.name}" in this process`);
      await handler(job.data, { attempt: job.attemptsMade + 1, jobId: String(job.id) });
    });
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
