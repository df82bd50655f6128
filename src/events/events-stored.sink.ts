import { Inject, Injectable } from '@nestjs/common';
import type { IngestBatch } from '../infrastructure/ingest-log/ingest-log.port.js';
import { PUBSUB, type PubSub } from '../infrastructure/pubsub/pubsub.port.js';
import { STORED_BATCH_SINK_ORDER, type StoredBatchSink, StoredBatchSinkProvider } from './stored-batch-sink.js';

export const EVENTS_STORED_CHANNEL = 'events.stored';

declare module '../infrastructure/pubsub/pubsub.port.js' {
  interface PubSubChannels {
    /** A batch was stored and indexed (sent by the writer that stored it). */
    'events.stored': { batch: string; count: number };
  }
}

/** Notes each stored batch on the live bus, last, once the other sinks are done with it. */
@StoredBatchSinkProvider()
@Injectable()
export class EventsStoredSink implements StoredBatchSink {
  readonly name = 'events-stored-note';
  readonly order = STORED_BATCH_SINK_ORDER.publish;

  constructor(@Inject(PUBSUB) private readonly pubsub: PubSub) {}

  async handle(batch: IngestBatch): Promise<void> {
    await this.pubsub.publish(EVENTS_STORED_CHANNEL, { batch: batch.id, count: batch.count });
  }
}
