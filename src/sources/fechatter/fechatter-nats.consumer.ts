import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
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
import { connect, headers } from '@nats-io/transport-node';
import { AccountDirectoryService } from '../../accounts/account-directory.service.js';
import type { FieldProblem } from '../../common/api-error.js';
import { StatusRegistry } from '../../common/status/status.registry.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { decodeBatchBytes, decodeEventBytes, type FechatterEvent } from './fechatter-event.decoder.js';
import { FechatterIngest } from './fechatter-ingest.js';

/** Where a message this service cannot take is set aside: `dead-letter.<dead-letter stream>.<its subject>`. */
export const deadLetterSubject = (deadLetterStream: string, subject: string) => `dead-letter.${deadLetterStream}.${subject}`;

const DAY_NS = 24 * 3600 * 1e9;
/** Fechatter's own stream limits, used when the stream does not exist yet. */
const STREAM_LIMITS = { max_age: 30 * DAY_NS, max_bytes: 1024 ** 3, max_msgs: 10_000_000 };
const FETCH_MESSAGES = 500;
const FETCHERS = 2;
const ACK_WAIT_NS = 30 * 1e9;
const MAX_RETRY_DELAY_MS = 30_000;
const ACCOUNT_CHECK_MS = 10_000;
/** How far the NATS server's clock may be ahead of ours when finding earlier copies of a redelivered message. */
const CLOCK_SKEW_MARGIN_MS = 5 * 60_000;

type NatsConnection = Awaited<ReturnType<typeof connect>>;

/** A message's events, or why it cannot be taken. */
type Taken = { msg: JsMsg; events: FechatterEvent[] } | { msg: JsMsg; problem: string };

/**
 * Fechatter's analytics stream into the events pipeline: a durable pull consumer (Fechatter's
 * `analytics-processor`) on stream ANALYTICS, subjects `fechatter.analytics.>`. Messages are
 * taken in batches; a batch is acknowledged only once the ingest service holds its events (the
 * ingest log is durable); a message that cannot be decoded, or whose events are refused, is
 * published to the dead-letter stream with the reason, then acknowledged, so it never blocks the
 * stream. Event ids come from the event (its client timestamp and bytes) or its stream sequence,
 * so a redelivered message is not counted twice. Runs where background work runs (ROLE=all or
 * worker), with FECHATTER_NATS_ENABLED.
 */
@Injectable()
export class FechatterNatsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('fechatter-nats');
  private nc: NatsConnection | null = null;
  private js!: JetStreamClient;
  private jsm!: JetStreamManager;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private readonly counters = {
    connected: false,
    messages: 0,
    events: 0,
    duplicates: 0,
    redelivered: 0,
    deadLettered: 0,
    failedBatches: 0,
    lastError: null as string | null,
    lastMessageAt: null as string | null,
  };

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly fechatter: FechatterIngest,
    private readonly accounts: AccountDirectoryService,
    status: StatusRegistry,
  ) {
    if (config.fechatter.natsEnabled) status.register('fechatterNats', () => this.stats());
  }

  onApplicationBootstrap(): void {
    if (!this.config.fechatter.natsEnabled) return;
    this.loop = this.run().catch((err) => this.logger.error({ err }, 'the Fechatter NATS consumer stopped'));
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    // The current batch finishes (or is left unacknowledged, to be redelivered); a hang must not hold shutdown.
    await Promise.race([this.loop, sleep(15_000)]);
    await this.nc?.drain().catch(() => undefined);
  }

  stats() {
    return {
      ...this.counters,
      stream: this.config.fechatter.stream,
      consumer: this.config.fechatter.consumer,
      accountId: this.config.fechatter.accountId,
    };
  }

  /** Waits for the account, connects (retrying), makes sure of the streams and the consumer, then consumes. */
  private async run(): Promise<void> {
    const accountId = this.config.fechatter.accountId!;
    let told = false;
    while (!this.stopping && !(await this.accounts.exists(accountId).catch(() => false))) {
      if (!told) this.logger.error({ accountId }, 'FECHATTER_ACCOUNT_ID names no account: waiting for it before consuming Fechatter events');
      told = true;
      this.counters.lastError = `no account ${accountId}`;
      await sleep(ACCOUNT_CHECK_MS);
    }
    let delay = 1000;
    while (!this.stopping) {
      try {
        const consumer = await this.connect();
        this.counters.connected = true;
        this.counters.lastError = null;
        delay = 1000;
        await this.consume(accountId, consumer);
        return;
      } catch (err) {
        this.counters.connected = false;
        this.counters.lastError = (err as Error).message;
        this.logger.warn({ err: (err as Error).message, retryInMs: delay }, 'could not consume the Fechatter stream; retrying');
        await this.nc?.close().catch(() => undefined);
        this.nc = null;
        await sleep(delay);
        delay = Math.min(MAX_RETRY_DELAY_MS, delay * 2);
      }
    }
  }

  private async connect(): Promise<Consumer> {
    const f = this.config.fechatter;
    this.nc = await connect({
      servers: f.natsUrl!.split(',').map((s) => s.trim()),
      name: 'analytics-fechatter-consumer',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      timeout: 10_000,
    });
    this.jsm = await jetstreamManager(this.nc);
    this.js = jetstream(this.nc, { timeout: 10_000 });
    await this.ensureStream(f.stream, [f.subjects]);
    await this.ensureStream(f.deadLetterStream, [deadLetterSubject(f.deadLetterStream, '>')]);
    await this.ensureConsumer();
    return this.js.consumers.get(f.stream, f.consumer);
  }

  /** Creates a stream with Fechatter's limits when it is missing; one that exists is left as its owner set it. */
  private async ensureStream(name: string, subjects: string[]): Promise<void> {
    try {
      await this.jsm.streams.info(name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.jsm.streams.add({
        name,
        subjects,
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        ...STREAM_LIMITS,
      });
      this.logger.log({ stream: name, subjects }, 'created the JetStream stream');
    }
  }

  private async ensureConsumer(): Promise<void> {
    const { stream, consumer, subjects } = this.config.fechatter;
    try {
      const info = await this.jsm.consumers.info(stream, consumer);
      if (info.config.max_deliver !== undefined && info.config.max_deliver > 0) {
        this.logger.warn(
          { consumer, maxDeliver: info.config.max_deliver },
          'the existing consumer gives up on a message after max_deliver deliveries: a message still unstored then (a long store outage) is dropped by JetStream',
        );
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.jsm.consumers.add(stream, {
        durable_name: consumer,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: subjects,
        ack_wait: ACK_WAIT_NS,
        // Undecodable messages are set aside at once, so only a store outage brings a message
        // back; it must come back until it is stored, never be dropped after a few tries.
        max_deliver: -1,
        max_ack_pending: 20_000,
      });
    }
  }

  /**
   * Two pulls in flight: while one batch is decoded and appended to the ingest log, the next is
   * already being fetched (one loop alone waited on each round trip in turn: 15,500 against
   * 18,400 events/s in bench/ingest). A batch redelivered after a worker died may then come back
   * split between the two; its messages are marked redelivered, so the writer skips what is
   * stored already (see store). A client's events in two batches may reach the session step out
   * of order; the 10-minute rule continues a session from an event within the gap on either side
   * of its newest, so only an event at a session's very edge could be placed differently than in
   * stream order.
   */
  private async consume(accountId: string, consumer: Consumer): Promise<void> {
    await Promise.all(Array.from({ length: FETCHERS }, () => this.pull(accountId, consumer)));
  }

  private async pull(accountId: string, consumer: Consumer): Promise<void> {
    while (!this.stopping) {
      const batch: JsMsg[] = [];
      const messages = await consumer.fetch({ max_messages: FETCH_MESSAGES, expires: 1000 });
      for await (const m of messages) batch.push(m);
      if (batch.length === 0) continue;
      if (!(await this.take(accountId, batch))) return; // stopping: the rest is redelivered
    }
  }

  /** Stores a batch of messages, retrying (the messages kept ours) until it succeeds; false if stopped first. */
  private async take(accountId: string, batch: JsMsg[]): Promise<boolean> {
    const taken = batch.map((msg) => this.decode(msg));
    let delay = 250;
    for (;;) {
      try {
        await this.store(accountId, taken);
        for (const m of batch) m.ack();
        this.counters.messages += batch.length;
        this.counters.redelivered += batch.filter((m) => m.redelivered).length;
        this.counters.lastMessageAt = new Date().toISOString();
        return true;
      } catch (err) {
        this.counters.failedBatches++;
        this.counters.lastError = (err as Error).message;
        this.logger.warn({ err: (err as Error).message, messages: batch.length, retryInMs: delay }, 'storing Fechatter events failed; the messages stay unacknowledged and are retried');
        if (this.stopping) return false;
        for (const m of batch) m.working();
        await sleep(delay);
        delay = Math.min(MAX_RETRY_DELAY_MS, delay * 2);
      }
    }
  }

  private decode(msg: JsMsg): Taken {
    const one = decodeEventBytes(msg.data, 'message');
    if (one.ok) return { msg, events: [one.value] };
    // The batch subject may carry a BatchRecordEventsRequest instead (its bytes never decode as
    // one event with an event type).
    if (msg.subject.endsWith('.batch')) {
      const many = decodeBatchBytes(msg.data, 'message');
      if (many.ok && many.items.length > 0) {
        const bad = many.items.flatMap((item) => (item.ok ? [] : item.errors));
        if (bad.length === 0) return { msg, events: many.items.map((item) => (item as { value: FechatterEvent }).value) };
        return { msg, problem: describe(bad) };
      }
    }
    return { msg, problem: describe(one.errors) };
  }

  /**
   * One ingest call for the messages delivered for the first time and one for those delivered
   * again: a redelivered message's events may already be in the ingest log from a process that
   * died before acknowledging it, under another batch, so they are appended marked as such and
   * the writer skips those already stored. Messages with refused events, and undecodable ones,
   * are set aside.
   */
  private async store(accountId: string, taken: Taken[]): Promise<void> {
    const refused = new Map<JsMsg, FieldProblem[]>();
    const first = taken.filter((t) => !t.msg.redelivered);
    const again = taken.filter((t) => t.msg.redelivered);
    await this.record(accountId, first, refused);
    // No copy was ingested before the message reached the stream (less a margin for the NATS
    // server's clock against ours).
    const since = again.reduce((min, t) => Math.min(min, t.msg.time.getTime()), Infinity) - CLOCK_SKEW_MARGIN_MS;
    await this.record(accountId, again, refused, since);
    for (const t of taken) {
      const problem = 'problem' in t ? t.problem : refused.has(t.msg) ? `refused: ${describe(refused.get(t.msg)!)}` : null;
      if (problem) await this.deadLetter(t.msg, problem);
    }
  }

  /** The decodable messages' events in one ingest call; the problems of refused events go to `refused`, by message. */
  private async record(accountId: string, taken: Taken[], refused: Map<JsMsg, FieldProblem[]>, redeliveredSince?: number): Promise<void> {
    const events: FechatterEvent[] = [];
    const positions: string[] = [];
    const owner: JsMsg[] = [];
    for (const t of taken) {
      if (!('events' in t)) continue;
      t.events.forEach((event, j) => {
        events.push(event);
        positions.push(`${this.config.fechatter.stream}/${t.msg.seq}/${j}`);
        owner.push(t.msg);
      });
    }
    if (events.length === 0) return;
    const outcome = await this.fechatter.record(
      accountId,
      events,
      { ip: '', userAgent: undefined, receivedAt: Date.now() },
      { position: (i) => positions[i]!, redeliveredSince },
    );
    for (const r of outcome.rejected) refused.set(owner[r.index]!, [...(refused.get(owner[r.index]!) ?? []), ...r.errors]);
    this.counters.events += outcome.accepted - outcome.duplicates;
    this.counters.duplicates += outcome.duplicates;
  }

  /** Keeps a message in the dead-letter stream with why; published before the original is acknowledged. */
  private async deadLetter(msg: JsMsg, reason: string): Promise<void> {
    const h = headers();
    h.set('Fechatter-Dead-Letter-Reason', reason.slice(0, 1000));
    h.set('Fechatter-Original-Subject', msg.subject);
    h.set('Fechatter-Original-Sequence', String(msg.seq));
    const ack = await this.js.publish(deadLetterSubject(this.config.fechatter.deadLetterStream, msg.subject), msg.data, {
      headers: h,
      // Set aside once even if the original comes back before its ack lands.
      msgID: `dead-letter-${this.config.fechatter.stream}-${msg.seq}`,
    });
    if (!ack.duplicate) this.counters.deadLettered++;
    this.logger.warn({ subject: msg.subject, seq: msg.seq, reason }, 'set aside a Fechatter message');
  }
}

function describe(problems: FieldProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
}

function isNotFound(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10059 || e?.api_error?.err_code === 10014 || /not found/i.test(e?.message ?? '');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
