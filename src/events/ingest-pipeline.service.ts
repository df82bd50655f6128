import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { type AppendOptions, INGEST_LOG, type IngestBatch, type IngestLog } from '../infrastructure/ingest-log/ingest-log.port.js';
import { WRITER_LOCK, type WriterLock } from '../infrastructure/lock/writer-lock.port.js';
import { SessionAssigner } from '../sessions/session-assigner.js';
import { addSession, SessionSummarizer, sessionsOf, type TouchedSessions } from '../sessions/session-summarizer.js';
import { EventsRepository } from './events.repository.js';
import { discoverStoredBatchSinks, type StoredBatchSink } from './stored-batch-sink.js';

/**
 * The sink side of ingestion: batches leave the durable log for the events store (one insert
 * per batch, deduplicated by the batch id should the same batch be written twice), and then go
 * through the stored-batch sinks in order (search index, …, a note on the live bus last): every
 * provider marked @StoredBatchSinkProvider(), in any module. It starts after the schema
 * migrations (onModuleInit) and stops, flushing, before the stores close (onApplicationShutdown).
 */
@Injectable()
export class IngestPipelineService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ingest-pipeline');
  private readonly recoveredHandlers: ((row: Record<string, unknown>) => void)[] = [];
  /** The stored-batch sinks in running order, found once at bootstrap. */
  private sinks: readonly StoredBatchSink[] = [];

  constructor(
    @Inject(INGEST_LOG) private readonly log: IngestLog,
    private readonly events: EventsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sessions: SessionAssigner,
    private readonly summaries: SessionSummarizer,
    @Inject(WRITER_LOCK) private readonly lock: WriterLock,
    private readonly discovery: DiscoveryService,
  ) {}

  /** Lets the ingest service see rows recovered from the log at start (to seed its dedup window). */
  onRecoveredRow(handler: (row: Record<string, unknown>) => void): void {
    this.recoveredHandlers.push(handler);
  }

  async onApplicationBootstrap(): Promise<void> {
    // In every role, so a sink registered twice or two of one name fail boot everywhere.
    this.sinks = discoverStoredBatchSinks(this.discovery);
    // ROLE=api only appends; the writers (ROLE=worker) drain the shared log into the store.
    const writes = this.config.role !== 'api';
    await this.log.start(
      writes ? (batch) => this.write(batch) : null,
      (row) => {
        for (const h of this.recoveredHandlers) h(row);
      },
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.log.stop();
  }

  append(rows: Buffer, count: number, options?: AppendOptions): Promise<void> {
    return this.log.append(rows, count, options);
  }

  ping(): Promise<boolean> {
    return this.log.ping();
  }

  /** Forces every acknowledged event into the store now. */
  flush(): Promise<void> {
    return this.log.flush();
  }

  stats() {
    return { ...this.log.stats(), ...this.sessions.stats() };
  }

  private async write(batch: IngestBatch): Promise<void> {
    // Writers take turns (across replicas on Redis): sessions and their summaries are read,
    // then written back, so two batches of one device at once could split a session or count
    // a change twice.
    const rows = await this.lock.run('session-writer', () => this.storeWithSessions(batch));
    // Then the sinks, one after another, outside the lock. If one fails the batch fails and is
    // retried whole (the store step included), which the store's dedup token and each sink's own
    // idempotence (the index's event-id documents, for one) make harmless.
    for (const sink of this.sinks) {
      try {
        await sink.handle(batch, rows);
      } catch (err) {
        this.logger.warn({ sink: sink.name, batch: batch.id }, 'a stored-batch sink failed; the batch stays in the log');
        throw err;
      }
    }
    this.logger.debug({ batch: batch.id, events: batch.count, replay: batch.replay ?? false }, 'batch stored');
  }

  /** Stores the batch's rows with sessions assigned, and brings their summaries up to date. */
  private async storeWithSessions(batch: IngestBatch): Promise<Buffer> {
    const touched: TouchedSessions = new Map();
    const unstored = batch.replay ? await this.withoutStored(batch.rows, touched, batch.replaySince) : batch.rows;
    // Session ids are deterministic (device and first event), so a retried batch gets the same.
    const { rows, commit } = await this.sessions.assign(unstored);
    if (rows.length > 0) await this.events.insert(rows, batch.id);
    await commit();
    // The batch's sessions, including those of rows an earlier attempt stored, are summarized
    // again; what an earlier attempt summarized already is skipped by its token.
    await this.summaries.summarize(sessionsOf(rows, touched), batch.id);
    return rows;
  }

  /**
   * A replayed batch may be partly stored already: keep only the rows the store lacks (the
   * sessions of those it has go to `touched`).
   */
  private async withoutStored(rows: Buffer, touched: TouchedSessions, since: number | undefined): Promise<Buffer> {
    const lines = rows.toString('utf8').split('\n').filter((l) => l.length > 0);
    const parsed = lines.map((l) => JSON.parse(l) as { account_id: string; event_id: string; received_at: string });
    const stored = await this.events.storedIds(parsed, since);
    if (stored.size > 0) this.logger.log({ skipped: stored.size }, 'skipped events already stored (redelivery)');
    for (const r of parsed) {
      const session = stored.get(r.event_id);
      if (session !== undefined) addSession(touched, r.account_id, session);
    }
    // A replay can also hold one event twice (its first copy and a source's redelivery of it,
    // delivered together): the first is kept.
    const seen = new Set<string>();
    const keep = lines.filter((_, i) => {
      const key = `${parsed[i]!.account_id}|${parsed[i]!.event_id}`;
      if (stored.has(parsed[i]!.event_id) || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    return Buffer.from(keep.length > 0 ? `${keep.join('\n')}\n` : '');
  }
}
