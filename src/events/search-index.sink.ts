import { Inject, Injectable } from '@nestjs/common';
import type { IngestBatch } from '../infrastructure/ingest-log/ingest-log.port.js';
import { EVENT_SEARCH, type EventSearch } from '../infrastructure/search/event-search.port.js';
import { STORED_BATCH_SINK_ORDER, type StoredBatchSink, StoredBatchSinkProvider } from './stored-batch-sink.js';

/** Indexes every stored batch for search (the events store itself, or Elasticsearch). */
@StoredBatchSinkProvider()
@Injectable()
export class SearchIndexSink implements StoredBatchSink {
  readonly name = 'search-index';
  readonly order = STORED_BATCH_SINK_ORDER.index;

  constructor(@Inject(EVENT_SEARCH) private readonly search: EventSearch) {}

  async handle(batch: IngestBatch, rows: Buffer): Promise<void> {
    // Indexed after the store took them; if indexing fails the batch is retried whole, which the
    // store's dedup token and the index's event-id documents both make harmless. A replay indexes
    // every row again, since an earlier attempt may have stored a row but not indexed it.
    await this.search.index(batch.replay ? batch.rows : rows);
  }
}
