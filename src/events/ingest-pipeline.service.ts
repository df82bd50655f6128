import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { EVENTS_STORE, type EventsStore } from '../infrastructure/clickhouse/events-store.port.js';
import { INGEST_LOG, type IngestBatch, type IngestLog } from '../infrastructure/ingest-log/ingest-log.port.js';
import { PUBSUB, type PubSub } from '../infrastructure/pubsub/pubsub.port.js';

export const EVENTS_STORED_CHANNEL = 'events.stored';

/**
 * The sink side of ingestion: batches leave the durable log for the events store (one insert
 * per batch, deduplicated by the batch id should the same batch be written twice), and then a
 * note goes out on the live bus. It starts after the schema migrations (onModuleInit) and
 * stops, flushing, before the stores close (onApplicationShutdown).
 */
@Injectable()
export class IngestPipelineService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ingest-pipeline');
  private readonly recoveredHandlers: ((row: Record<string, unknown>) => void)[] = [];

  constructor(
    @Inject(INGEST_LOG) private readonly log: IngestLog,
    @Inject(EVENTS_STORE) private readonly store: EventsStore,
    @Inject(PUBSUB) private readonly pubsub: PubSub,
  ) {}

  /** Lets the ingest service see rows recovered from the log at start (to seed its dedup window). */
  onRecoveredRow(handler: (row: Record<string, unknown>) => void): void {
    this.recoveredHandlers.push(handler);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.log.start(
      (batch) => this.write(batch),
      (row) => {
        for (const h of this.recoveredHandlers) h(row);
      },
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.log.stop();
  }

  append(rows: Buffer, count: number): Promise<void> {
    return this.log.append(rows, count);
  }

  /** Forces every acknowledged event into the store now. */
  flush(): Promise<void> {
    return this.log.flush();
  }

  stats() {
    return this.log.stats();
  }

  private async write(batch: IngestBatch): Promise<void> {
    await this.store.insertJsonEachRow('events', batch.rows, { dedupToken: batch.id });
    this.logger.debug({ batch: batch.id, events: batch.count }, 'batch stored');
    await this.pubsub.publish(EVENTS_STORED_CHANNEL, { batch: batch.id, count: batch.count });
  }
}
