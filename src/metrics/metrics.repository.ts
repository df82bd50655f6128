import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DOCUMENT_STORE, type DocumentCollection, type DocumentStore } from '../infrastructure/documents/documents.port.js';
import type { MetricDocument } from './metric.types.js';

/** Metric definitions in the documents store, always scoped to one account. */
@Injectable()
export class MetricsRepository implements OnModuleInit {
  private metrics!: DocumentCollection<MetricDocument>;

  constructor(@Inject(DOCUMENT_STORE) private readonly store: DocumentStore) {}

  async onModuleInit(): Promise<void> {
    this.metrics = await this.store.collection<MetricDocument>('metrics');
    await this.metrics.ensureIndex('accountId');
  }

  insert(doc: MetricDocument): Promise<MetricDocument> {
    return this.metrics.insert(doc);
  }

  find(accountId: string, id: string): Promise<MetricDocument | null> {
    return this.metrics.findOne({ _id: id, accountId });
  }

  findByName(accountId: string, name: string): Promise<MetricDocument | null> {
    return this.metrics.find({ accountId, name }, { sort: { createdAt: 1 }, limit: 1 }).then((r) => r[0] ?? null);
  }

  list(accountId: string, skip: number, limit: number): Promise<MetricDocument[]> {
    return this.metrics.find({ accountId }, { sort: { createdAt: 1 }, skip, limit });
  }

  count(accountId: string): Promise<number> {
    return this.metrics.count({ accountId });
  }

  /** Replaces a definition unless someone changed it since `version` was read (returns false then). */
  async replace(accountId: string, id: string, version: number, fields: Omit<MetricDocument, '_id' | 'accountId' | 'createdAt' | 'version'>): Promise<boolean> {
    const unset: Record<string, true> = {};
    for (const key of ['description', 'unit', 'eventName', 'eventType', 'field', 'precision', 'formula', 'series', 'buckets'] as const) {
      if (fields[key] === undefined) unset[key] = true;
    }
    const set = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    const updated = await this.metrics.update(
      { _id: id, accountId, version },
      { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}), $inc: { version: 1 } },
    );
    return updated === 1;
  }

  async remove(accountId: string, id: string): Promise<boolean> {
    return (await this.metrics.remove({ _id: id, accountId })) === 1;
  }
}
