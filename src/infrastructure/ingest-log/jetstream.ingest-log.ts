import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import {
  AckPolicy,
  type Consumer,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect, headers, type MsgHdrs } from '@nats-io/transport-node';
import type { AppConfig } from '../../config/config.schema.js';
import {
  type AppendOptions,
  IngestBackpressureError,
  type IngestLog,
  type IngestLogStats,
  type IngestSink,
} from './ingest-log.port.js';

/** Keeps each message under NATS's default 1 MB max_payload. */
const MAX_MESSAGE_BYTES = 900 * 1024;
const MAX_RETRY_DELAY_MS = 30_000;
/** On a message whose rows a source redelivered: the earliest time (ms) an earlier copy can have been received. */
const REDELIVERED_SINCE_HEADER = 'Analytics-Redelivered-Since';

type NatsConnection = Awaited<ReturnType<typeof connect>>;

export interface JetStreamIngestLogOptions {
  nats: AppConfig['nats'];
  /** Name shown in NATS monitoring. */
  connectionName: string;
  logger: Pick<Logger, 'log' | 'warn' | 'error'>;
}

/**
 * The ingest log on NATS JetStream, for several API replicas and writers. `append` publishes
 * the rows and resolves on JetStream's ack (stored, replicated as configured); a writer pulls
 * batches with a durable consumer, stores them, and only then acks. A message whose ack was
 * lost (writer killed after its insert) comes back marked redelivered; it goes to the sink as a
 * replay, which skips the rows the store already holds, so it is never counted twice. Messages
 * carry an id (Nats-Msg-Id), so a batch retried with the same client event ids is dropped by
 * JetStream's duplicate window, whichever replica receives it. A source's message redelivered
 * after the process that appended it died may come back in another batch (another id): it is
 * appended marked as redelivered and replayed the same way, row by row.
 */
export class JetStreamIngestLog implements IngestLog {
  private nc: NatsConnection | null = null;
  private js!: JetStreamClient;
  private jsm!: JetStreamManager;
  private consumer: Consumer | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private readonly counters = {
    appendedEvents: 0,
    flushedEvents: 0,
    failedFlushes: 0,
    lastFlushError: null as string | null,
    lastFlushAt: null as string | null,
  };

  constructor(private readonly options: JetStreamIngestLogOptions) {}

  async start(sink: IngestSink | null): Promise<void> {
    const { nats } = this.options;
    this.nc = await connect({
      servers: nats.url!.split(',').map((s) => s.trim()),
      name: this.options.connectionName,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      timeout: 10_000,
    });
    this.jsm = await jetstreamManager(this.nc);
    this.js = jetstream(this.nc, { timeout: 10_000 });
    await this.ensureStream();
    if (sink) {
      await this.ensureConsumer();
      this.consumer = await this.js.consumers.get(nats.stream, nats.consumer);
      this.loop = this.consume(sink);
    }
  }

  async append(rows: Buffer, count: number, options: AppendOptions = {}): Promise<void> {
    if (!this.nc || this.stopping || this.nc.isClosed()) {
      throw new IngestBackpressureError('the ingest log (JetStream) is not connected', 5);
    }
    const { dedupKey, redeliveredSince } = options;
    const chunks = splitRows(rows, MAX_MESSAGE_BYTES);
    let h: MsgHdrs | undefined;
    if (redeliveredSince !== undefined) {
      h = headers();
      h.set(REDELIVERED_SINCE_HEADER, String(redeliveredSince));
    }
    try {
      await Promise.all(
        chunks.map((chunk, i) =>
          this.js.publish(this.options.nats.subject, chunk, {
            msgID: dedupKey ? `${dedupKey}-${i}` : randomUUID(),
            ...(h ? { headers: h } : {}),
          }),
        ),
      );
    } catch (err) {
      // Unreachable, timed out, or the stream is full (discard: new): nothing was acknowledged.
      throw new IngestBackpressureError(`the ingest log (JetStream) refused the events: ${(err as Error).message}`, 5);
    }
    this.counters.appendedEvents += count;
  }

  async ping(): Promise<boolean> {
    if (!this.nc || this.nc.isClosed()) return false;
    try {
      await this.nc.flush();
      await this.jsm.streams.info(this.options.nats.stream);
      return true;
    } catch {
      return false;
    }
  }

  /** Waits until this stream's consumer has nothing pending or unacknowledged. */
  async flush(): Promise<void> {
    if (!this.consumer) return;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const info = await this.jsm.consumers.info(this.options.nats.stream, this.options.nats.consumer);
      if (info.num_pending === 0 && info.num_ack_pending === 0) return;
      await sleep(50);
    }
    throw new Error('the ingest log (JetStream) was not drained within 60 s');
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // The writer loop ends after its current batch; a store that hangs must not hold shutdown.
    await Promise.race([this.loop?.catch(() => undefined), sleep(15_000)]);
    // drain() lets in-flight publishes and acks reach the server before closing.
    await this.nc?.drain().catch(() => undefined);
  }

  stats(): IngestLogStats {
    return { kind: 'jetstream', ...this.counters, pendingEvents: -1, pendingBytes: -1 };
  }

  private async ensureStream(): Promise<void> {
    const { nats } = this.options;
    const config = {
      name: nats.stream,
      subjects: [nats.subject],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      max_bytes: nats.maxBytes,
      max_age: nats.maxAgeHours * 3600 * 1e9,
      duplicate_window: nats.duplicateWindowSeconds * 1e9,
      num_replicas: nats.replicas,
      max_msg_size: MAX_MESSAGE_BYTES + 64 * 1024,
    };
    try {
      await this.jsm.streams.info(nats.stream);
      const { name: _name, ...update } = config;
      await this.jsm.streams.update(nats.stream, update);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.jsm.streams.add(config);
    }
  }

  private async ensureConsumer(): Promise<void> {
    const { nats } = this.options;
    const config = {
      durable_name: nats.consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nats.ackWaitSeconds * 1e9,
      max_ack_pending: 20_000,
      max_deliver: -1,
    };
    try {
      await this.jsm.consumers.info(nats.stream, nats.consumer);
      await this.jsm.consumers.update(nats.stream, nats.consumer, {
        ack_wait: config.ack_wait,
        max_ack_pending: config.max_ack_pending,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.jsm.consumers.add(nats.stream, config);
    }
  }

  private async consume(sink: IngestSink): Promise<void> {
    const { nats } = this.options;
    while (!this.stopping) {
      let batch: JsMsg[] = [];
      try {
        // Counted in messages: nats-server 2.9 refuses some byte-bounded pulls ("message size
        // exceeds maxbytes") even when every message fits.
        const messages = await this.consumer!.fetch({ max_messages: nats.fetchMaxMessages, expires: 1000 });
        for await (const m of messages) batch.push(m);
      } catch (err) {
        if (this.stopping) return;
        this.options.logger.warn({ err: (err as Error).message }, 'fetching from JetStream failed; retrying');
        await sleep(1000);
        continue;
      }
      if (batch.length === 0) continue;
      batch = await this.store(batch, sink);
      for (const m of batch) m.ack();
    }
  }

  /** Stores a batch, retrying with backoff (and keeping the messages ours) until it succeeds. */
  private async store(batch: JsMsg[], sink: IngestSink): Promise<JsMsg[]> {
    const base = `js-${this.options.nats.stream}-${batch[0]!.seq}-${batch.at(-1)!.seq}`;
    // A message of our own coming back, or a source's redelivery appended again, may hold rows
    // already stored: those go to the sink as a replay, after the fresh ones.
    const again = batch.filter(mayBeStored);
    const fresh = batch.filter((m) => !mayBeStored(m));
    let delay = 250;
    for (;;) {
      try {
        let stored = 0;
        if (fresh.length > 0) stored += await this.deliver(sink, fresh, base, false);
        if (again.length > 0) stored += await this.deliver(sink, again, `${base}-replay`, true);
        this.counters.flushedEvents += stored;
        this.counters.lastFlushAt = new Date().toISOString();
        return batch;
      } catch (err) {
        this.counters.failedFlushes++;
        this.counters.lastFlushError = (err as Error).message;
        this.options.logger.warn(
          { err: (err as Error).message, messages: batch.length, retryInMs: delay },
          'storing a JetStream batch failed; it stays unacknowledged and is retried',
        );
        if (this.stopping) return [];
        for (const m of batch) m.working(); // keep the ack deadline from passing while we retry
        await sleep(delay);
        delay = Math.min(MAX_RETRY_DELAY_MS, delay * 2);
      }
    }
  }

  private async deliver(sink: IngestSink, messages: JsMsg[], id: string, replay: boolean): Promise<number> {
    const rows = Buffer.concat(messages.map((m) => Buffer.from(m.data)));
    const count = countLines(rows);
    const since = messages.map((m) => Number(m.headers?.get(REDELIVERED_SINCE_HEADER))).filter((ms) => ms > 0);
    await sink({ id, rows, count, replay, ...(since.length > 0 ? { replaySince: since.reduce((a, b) => Math.min(a, b)) } : {}) });
    return count;
  }
}

/** Redelivered to us, or a source's redelivery appended again: some of its rows may be stored. */
function mayBeStored(m: JsMsg): boolean {
  return m.redelivered || m.headers?.has(REDELIVERED_SINCE_HEADER) === true;
}

/** Splits newline-delimited rows into chunks of at most `max` bytes, on row boundaries. */
export function splitRows(rows: Buffer, max: number): Buffer[] {
  if (rows.length <= max) return [rows];
  const chunks: Buffer[] = [];
  let start = 0;
  while (start < rows.length) {
    let end = Math.min(start + max, rows.length);
    if (end < rows.length) {
      const nl = rows.lastIndexOf(0x0a, end - 1);
      // One row larger than `max` travels alone (rows are at most 32 KB, far below).
      end = nl >= start ? nl + 1 : rows.indexOf(0x0a, end) + 1 || rows.length;
    }
    chunks.push(rows.subarray(start, end));
    start = end;
  }
  return chunks;
}

function countLines(data: Buffer): number {
  let n = 0;
  for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, i + 1)) n++;
  return n;
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: string | number; api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10059 || e?.api_error?.err_code === 10014 || /not found/i.test(e?.message ?? '');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
