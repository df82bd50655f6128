import { randomUUID } from 'node:crypto';
import { type JobHandler, type JobOptions, type JobQueue, UnknownJobError } from './job-queue.port.js';

interface QueuedJob {
  id: string;
  name: string;
  payload: unknown;
  attempt: number;
  attempts: number;
  backoffMs: number;
}

interface Worker {
  handler: JobHandler<unknown>;
  concurrency: number;
  running: number;
  waiting: QueuedJob[];
}

export interface JobEvents {
  failed(job: { id: string; name: string; attempt: number }, err: unknown, willRetry: boolean): void;
}

/** Jobs run in this process with per-name concurrency and exponential backoff retries. */
export class InProcessJobQueue implements JobQueue {
  readonly kind = 'in-process' as const;
  private readonly workers = new Map<string, Worker>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly idle = new Set<() => void>();
  private closed = false;

  constructor(private readonly events: JobEvents) {}

  register<P>(name: string, handler: JobHandler<P>, options: { concurrency?: number } = {}): void {
    if (this.workers.has(name)) throw new Error(`job "${name}" already has a handler`);
    this.workers.set(name, {
      handler: handler as JobHandler<unknown>,
      concurrency: Math.max(1, options.concurrency ?? 1),
      running: 0,
      waiting: [],
    });
  }

  async enqueue<P>(name: string, payload: P, options: JobOptions = {}): Promise<string> {
    const worker = this.workers.get(name);
    if (!worker) throw new UnknownJobError(name);
    if (this.closed) throw new Error('job queue is closed');
    const id = options.jobId ?? randomUUID();
    if (options.jobId && worker.waiting.some((j) => j.id === id)) return id;
    const job: QueuedJob = {
      id,
      name,
      payload: structuredClone(payload),
      attempt: 0,
      attempts: Math.max(1, options.attempts ?? 3),
      backoffMs: options.backoffMs ?? 1000,
    };
    this.later(options.delayMs ?? 0, () => this.push(worker, job));
    return id;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const w of this.workers.values()) w.waiting.length = 0;
    while ([...this.workers.values()].some((w) => w.running > 0)) {
      await new Promise<void>((resolve) => this.idle.add(resolve));
    }
  }

  private push(worker: Worker, job: QueuedJob): void {
    if (this.closed) return;
    worker.waiting.push(job);
    this.pump(worker);
  }

  private pump(worker: Worker): void {
    while (worker.running < worker.concurrency && worker.waiting.length > 0) {
      const job = worker.waiting.shift()!;
      worker.running++;
      job.attempt++;
      void worker
        .handler(job.payload, { attempt: job.attempt, jobId: job.id })
        .catch((err: unknown) => {
          const willRetry = job.attempt < job.attempts && !this.closed;
          this.events.failed(job, err, willRetry);
          if (willRetry) this.later(job.backoffMs * 2 ** (job.attempt - 1), () => this.push(worker, job));
        })
        .finally(() => {
          worker.running--;
          for (const resolve of this.idle) resolve();
          this.idle.clear();
          this.pump(worker);
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
