/**
 * Background jobs (report rendering, notifications, retries, scheduled evaluations). Every job
 * name is declared by the feature that owns it (in every role), and has exactly one handler in
 * the processes that run jobs (ROLE=all or worker); `start()` refuses to run otherwise.
 */
export const JOB_QUEUE = Symbol('JOB_QUEUE');

/**
 * Every job's payload, by job name: the one map the queue is typed by. A feature adds its jobs
 * where it defines them, by augmenting this interface (no edit here):
 *
 * ```ts
 * declare module '../infrastructure/queue/job-queue.port.js' {
 *   interface JobPayloads {
 *     'report.generate': { accountId: string; reportId: string };
 *   }
 * }
 * ```
 *
 * Then `enqueue('report.generate', payload)`, `schedule(...)` and `register(...)` check the name
 * and the payload's type at compile time; `declare` still names the job at run time, where
 * `start()` checks every declared job has exactly one handler. Payloads travel as JSON (Bull keeps
 * them in Redis), so they are plain data: no Dates, Maps or class instances.
 */
export interface JobPayloads {}

/** A job name of the payload map `M` (by default the app's). */
export type JobName<M extends object = JobPayloads> = keyof M & string;

export interface JobOptions {
  /** Total tries including the first (default 3). */
  attempts?: number;
  /** First retry delay; doubles each retry (default 1000 ms). */
  backoffMs?: number;
  /** A job with the same id that is still waiting is not enqueued twice. */
  jobId?: string;
  delayMs?: number;
}

export type JobHandler<P> = (payload: P, meta: { attempt: number; jobId: string }) => Promise<void>;

/**
 * The queue, typed by a payload map: the app's `JobPayloads` by default (the contract tests use
 * a map of their own).
 */
export interface JobQueue<M extends object = JobPayloads> {
  readonly kind: 'in-process' | 'bull';
  /** Names a job kind this deployment uses (call in every role, at module init). */
  declare(name: JobName<M>): void;
  /** The one handler of a declared job kind (workers only). */
  register<N extends JobName<M>>(name: N, handler: JobHandler<M[N]>): void;
  enqueue<N extends JobName<M>>(name: N, payload: M[N], options?: JobOptions): Promise<string>;
  /**
   * Runs a job on a cron schedule (UTC unless `timezone`), once per tick across all replicas.
   * The schedule is identified by `name`: scheduling it again replaces the previous one.
   */
  schedule<N extends JobName<M>>(name: N, cron: string, payload: M[N], options?: { timezone?: string }): Promise<void>;
  /** Checks every declared job has exactly one handler, then starts processing (workers only). */
  start(): Promise<void>;
  /** Waits for running jobs to finish and stops taking new ones. */
  close(): Promise<void>;
}

export class UnknownJobError extends Error {
  constructor(name: string) {
    super(`job "${name}" is not declared`);
    this.name = 'UnknownJobError';
  }
}

/**
 * Shared bookkeeping of declared names and handlers, so both adapters check the same way. It
 * works on plain names: the types were checked where the queue was called.
 */
export class JobRegistry {
  private readonly declared = new Set<string>();
  readonly handlers = new Map<string, JobHandler<unknown>>();

  declare(name: string): void {
    this.declared.add(name);
  }

  register<P>(name: string, handler: JobHandler<P>): void {
    if (!this.declared.has(name)) throw new UnknownJobError(name);
    if (this.handlers.has(name)) throw new Error(`job "${name}" already has a handler`);
    this.handlers.set(name, handler as JobHandler<unknown>);
  }

  assertDeclared(name: string): void {
    if (!this.declared.has(name)) throw new UnknownJobError(name);
  }

  /** Every declared job has its handler: a job nobody processes would wait forever. */
  assertComplete(): void {
    const missing = [...this.declared].filter((n) => !this.handlers.has(n));
    if (missing.length > 0) throw new Error(`no handler is registered for job(s): ${missing.join(', ')}`);
  }
}
