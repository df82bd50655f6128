/**
 * Background jobs (report rendering, notifications, retries). Every job name has exactly one
 * handler, registered at boot; payloads are typed by the JobPayloads map that features extend.
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
  register<P>(name: string, handler: JobHandler<P>, options?: { concurrency?: number }): void;
  enqueue<P>(name: string, payload: P, options?: JobOptions): Promise<string>;
  /** Waits for running jobs to finish and stops taking new ones. */
  close(): Promise<void>;
}

export class UnknownJobError extends Error {
  constructor(name: string) {
    super(`no handler is registered for job "${name}"`);
    this.name = 'UnknownJobError';
  }
}
