/**
 * Mutual exclusion between writers, by name: the ingest writers take turns for the session
 * step (assign sessions, store, summarize), whose state is read and then written back, so two
 * writers at once could give one device two sessions or count a change twice.
 */
export const WRITER_LOCK = Symbol('WRITER_LOCK');

export interface WriterLock {
  readonly kind: 'in-process' | 'redis';
  /** Runs `fn` while holding the lock `name`, waiting for it as long as another holder has it. */
  run<T>(name: string, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
