import { DiscoveryService } from '@nestjs/core';
import type { IngestBatch } from '../infrastructure/ingest-log/ingest-log.port.js';

/**
 * What happens to a batch once the events store holds it: the search index, the `events.stored`
 * note on the live bus, and next alert evaluation, webhooks, live aggregates. The pipeline stores
 * each batch with its sessions (under the writer lock, first), then runs every sink in `order`,
 * one after another, outside the lock.
 *
 * A sink that throws fails the batch: the log keeps it and hands it back later with the same
 * batch id (or, from JetStream, as a replay: see IngestBatch.replay), and the store step and every
 * sink run again. So `handle` must be harmless to repeat for the same batch: key side effects by
 * the batch id or the event ids. Sinks run once per batch, off the per-event ingest path.
 */
export interface StoredBatchSink {
  /** Unique among the app's sinks (checked at boot); names the sink in logs. */
  readonly name: string;
  /** Sinks run lowest first (ties by name); see STORED_BATCH_SINK_ORDER. */
  readonly order: number;
  /**
   * `rows` are the rows this attempt stored, as NDJSON with sessions assigned (on a replay only
   * those the store lacked, so possibly none); `batch.rows` is the whole batch as logged.
   */
  handle(batch: IngestBatch, rows: Buffer): Promise<void>;
}

/** Where the built-in sinks sit; a new sink picks an order between them, or after `index`. */
export const STORED_BATCH_SINK_ORDER = {
  /** The search index: events are searchable once their batch passed it. */
  index: 100,
  /** The `events.stored` note: last, so it means "stored and indexed". */
  publish: 1000,
} as const;

/**
 * Registers a provider as a stored-batch sink. Nest has no multi-providers, so this decorator is
 * the "STORED_BATCH_SINKS token": mark the class and list it in its own module's providers, and
 * the pipeline finds it at bootstrap, in whichever module it is (no edit of the pipeline):
 *
 * ```ts
 * @StoredBatchSinkProvider()
 * @Injectable()
 * export class AlertEvaluationSink implements StoredBatchSink { name = 'alerts'; order = 500; ... }
 * ```
 */
export const StoredBatchSinkProvider = DiscoveryService.createDecorator<void>();

/** Every provider of the app marked as a sink, checked and in running order. */
export function discoverStoredBatchSinks(discovery: DiscoveryService): StoredBatchSink[] {
  const found = discovery.getProviders({ metadataKey: StoredBatchSinkProvider.KEY }).map((wrapper) => {
    if (!wrapper.isDependencyTreeStatic() || !wrapper.instance) {
      throw new Error(`stored-batch sink ${String(wrapper.name)} must be a singleton provider`);
    }
    return wrapper.instance as unknown;
  });
  return orderStoredBatchSinks(found);
}

/**
 * Checks what was registered (each a sink, names unique: two sinks of one name would be one
 * sink registered twice, or two that logs could not tell apart) and sorts by order, then name.
 */
export function orderStoredBatchSinks(found: readonly unknown[]): StoredBatchSink[] {
  const sinks = found.map((candidate) => {
    const sink = candidate as Partial<StoredBatchSink> | null;
    const name = sink?.name;
    if (typeof name !== 'string' || name.length === 0) throw new Error('a stored-batch sink has no name');
    if (typeof sink?.order !== 'number' || !Number.isFinite(sink.order)) throw new Error(`stored-batch sink "${name}" has no numeric order`);
    if (typeof sink.handle !== 'function') throw new Error(`stored-batch sink "${name}" has no handle()`);
    return sink as StoredBatchSink;
  });
  const names = new Set<string>();
  for (const { name } of sinks) {
    if (names.has(name)) throw new Error(`two stored-batch sinks are named "${name}"`);
    names.add(name);
  }
  return sinks.sort((a, b) => a.order - b.order || (a.name < b.name ? -1 : 1));
}
