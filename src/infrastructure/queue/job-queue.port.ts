/**
 * Background jobs (report rendering, notifications, retries, scheduled evaluations). Every job
 * name is declared by the feature that owns it (in every role), and has exactly one handler in
 * the processes that run jobs (ROLE=all or worker); `start()` refuses to run otherwise.
 */
export const JOB_QUEUE = Symbol('JOB_QUEUE');

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

export interface JobQueue {
  readonly kind: 'in-process' | 'bull';
  /** Names a job kind this deployment uses (call in every role, at module init). */
  declare(name: string): void;
  /** The one handler of a declared job kind (workers only). */
  register<P>(name: string, handler: JobHandler<P>): void;
  enqueue<P>(name: string, payload: P, options?: JobOptions): Promise<string>;
  /**
   * Runs a job on a cron schedule (UTC unless `timezone`), once per tick across all replicas.
   * The schedule is identified by `name`: scheduling it again replaces the previous one.
   */
  schedule<P>(name: string, cron: string, payload: P, options?: { timezone?: string }): Promise<void>;
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

/** Shared bookkeeping of declared names and handlers, so both adapters check the same way. */
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
