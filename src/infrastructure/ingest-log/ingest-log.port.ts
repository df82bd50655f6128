/**
 * The durable ingest log port. An API request's events are appended here and acknowledged
 * only once the append is durable; the log then hands them to the sink (events store,
 * search index, live bus) in large batches. Embedded: a local append-only file log.
 * Production (later): NATS JetStream.
 */
export const INGEST_LOG = Symbol('INGEST_LOG');

/** One batch for the sink: newline-delimited JSON rows, and an id stable across retries. */
export interface IngestBatch {
  /** Stable for the same rows across retries and restarts: use as an insert dedup token. */
  id: string;
  rows: Buffer;
  count: number;
  /**
   * Some rows may already be stored (a redelivery after a writer died between its insert and
   * its ack): the sink must skip those rather than store them twice.
   */
  replay?: boolean;
  /**
   * With `replay`: the earliest time (ms) an earlier copy of these rows can have been received.
   * A source's redelivered message is ingested again with a new `received_at`, so the sink looks
   * for stored copies from here on, not only within the rows' own `received_at` range.
   */
  replaySince?: number;
}

/** How an append is to be recognised again. */
export interface AppendOptions {
  /** The same key within the log's duplicate window means the same rows: stored once. */
  dedupKey?: string;
  /**
   * The rows may already be in the log under another composition (a source's message redelivered
   * after the process that appended it died before acknowledging it): their writer skips the ones
   * the store already holds, and this is the earliest time (ms) those copies can have been received.
   */
  redeliveredSince?: number;
}

/** Writes a batch to the stores. Throwing means "not stored": the log keeps it and retries. */
export type IngestSink = (batch: IngestBatch) => Promise<void>;

export interface IngestLogStats {
  kind: 'local' | 'jetstream';
  appendedEvents: number;
  flushedEvents: number;
  pendingEvents: number;
  pendingBytes: number;
  failedFlushes: number;
  lastFlushError: string | null;
  lastFlushAt: string | null;
}

export interface IngestLog {
  /**
   * Appends rows (each a JSON object followed by '\n'). Resolves once they are durable under the
   * configured fsync policy; rejects with IngestBackpressureError when the log is full.
   */
  append(rows: Buffer, count: number, options?: AppendOptions): Promise<void>;
  /**
   * Recovers what an earlier run left unflushed (each recovered row is shown to `onRecoveredRow`),
   * then starts delivering to the sink. A null sink only appends (ROLE=api: writers run elsewhere).
   */
  start(sink: IngestSink | null, onRecoveredRow?: (row: Record<string, unknown>) => void): Promise<void>;
  /** True while appends can be made durable (readiness). */
  ping(): Promise<boolean>;
  /** Forces everything appended so far to the sink (used by shutdown and tests). */
  flush(): Promise<void>;
  /** Stops accepting, flushes what it can, and closes. Unflushed rows stay on disk for the next start. */
  stop(): Promise<void>;
  stats(): IngestLogStats;
}

/** The log is full (the store is down or too slow): callers answer 503 with Retry-After. */
export class IngestBackpressureError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'IngestBackpressureError';
  }
}
