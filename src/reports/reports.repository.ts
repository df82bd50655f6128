import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DOCUMENT_STORE, type DocumentCollection, type DocumentStore, DuplicateKeyError, type Update } from '../infrastructure/documents/documents.port.js';
import type { DeliveryRecord, ReportDocumentRecord, ReportRunRecord } from './report.types.js';

/**
 * Report definitions, their runs and their deliveries (the email outbox), in the documents
 * store. Ids do the deduplication: a scheduled run's id is its report and time, a delivery's its
 * run and recipient, so a second replica or a retry inserting the same one is refused.
 */
@Injectable()
export class ReportsRepository implements OnModuleInit {
  private reports!: DocumentCollection<ReportDocumentRecord>;
  private runs!: DocumentCollection<ReportRunRecord>;
  private deliveries!: DocumentCollection<DeliveryRecord>;

  constructor(@Inject(DOCUMENT_STORE) private readonly store: DocumentStore) {}

  async onModuleInit(): Promise<void> {
    this.reports = await this.store.collection<ReportDocumentRecord>('reports');
    this.runs = await this.store.collection<ReportRunRecord>('report_runs');
    this.deliveries = await this.store.collection<DeliveryRecord>('report_deliveries');
    await this.reports.ensureIndex('accountId');
    await this.reports.ensureIndex('nextRunAt', { sparse: true });
    await this.runs.ensureIndex('reportId');
    await this.runs.ensureIndex('status');
    await this.deliveries.ensureIndex('runId');
  }

  // Definitions

  insert(doc: ReportDocumentRecord): Promise<ReportDocumentRecord> {
    return this.reports.insert(doc);
  }

  find(accountId: string, id: string): Promise<ReportDocumentRecord | null> {
    return this.reports.findOne({ _id: id, accountId });
  }

  findById(id: string): Promise<ReportDocumentRecord | null> {
    return this.reports.findOne({ _id: id });
  }

  list(accountId: string, skip: number, limit: number): Promise<ReportDocumentRecord[]> {
    return this.reports.find({ accountId }, { sort: { createdAt: 1 }, skip, limit });
  }

  count(accountId: string): Promise<number> {
    return this.reports.count({ accountId });
  }

  /** Replaces a definition unless it changed since `version` was read (false then). */
  async replace(accountId: string, id: string, version: number, fields: Omit<ReportDocumentRecord, '_id' | 'accountId' | 'createdAt' | 'version'>): Promise<boolean> {
    const unset: Record<string, true> = {};
    for (const key of ['schedule', 'nextRunAt'] as const) if (fields[key] === undefined) unset[key] = true;
    const set = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    const update: Update = { $set: set, $inc: { version: 1 }, ...(Object.keys(unset).length ? { $unset: unset } : {}) };
    return (await this.reports.update({ _id: id, accountId, version }, update)) === 1;
  }

  async remove(accountId: string, id: string): Promise<boolean> {
    return (await this.reports.remove({ _id: id, accountId })) === 1;
  }

  /** Scheduled definitions due at `now` (their next time has come). */
  due(now: number): Promise<ReportDocumentRecord[]> {
    return this.reports.find({ nextRunAt: { $lte: now } }, { sort: { nextRunAt: 1 }, limit: 500 });
  }

  /** Moves a definition's next time on, unless another replica already did (false then). */
  async advance(id: string, from: number, to: number | undefined): Promise<boolean> {
    const update: Update = to === undefined ? { $unset: { nextRunAt: true } } : { $set: { nextRunAt: to } };
    return (await this.reports.update({ _id: id, nextRunAt: from }, update)) === 1;
  }

  // Runs

  /** Inserts a run; false when a run with its id exists (another replica, or a retry, made it). */
  async insertRun(run: ReportRunRecord): Promise<boolean> {
    try {
      await this.runs.insert(run);
      return true;
    } catch (err) {
      if (err instanceof DuplicateKeyError) return false;
      throw err;
    }
  }

  findRun(accountId: string, reportId: string, runId: string): Promise<ReportRunRecord | null> {
    return this.runs.findOne({ _id: runId, accountId, reportId });
  }

  runById(runId: string): Promise<ReportRunRecord | null> {
    return this.runs.findOne({ _id: runId });
  }

  runsOf(reportId: string, limit: number): Promise<ReportRunRecord[]> {
    return this.runs.find({ reportId }, { sort: { createdAt: -1 }, limit });
  }

  latestSucceeded(reportId: string): Promise<ReportRunRecord | null> {
    return this.runs.find({ reportId, status: 'succeeded' }, { sort: { createdAt: -1 }, limit: 1 }).then((r) => r[0] ?? null);
  }

  async updateRun(runId: string, set: Partial<ReportRunRecord>, inc?: Record<string, number>, unset?: (keyof ReportRunRecord)[]): Promise<void> {
    const update: Update = { $set: set, ...(inc ? { $inc: inc } : {}) };
    if (unset?.length) update.$unset = Object.fromEntries(unset.map((k) => [k, true as const]));
    await this.runs.update({ _id: runId }, update);
  }

  /** Runs not finished (queued or running): after a crash, their jobs may be gone. */
  unfinishedRuns(): Promise<ReportRunRecord[]> {
    return this.runs.find({ status: { $in: ['queued', 'running'] } }, { limit: 1000 });
  }

  runsBefore(cutoff: number, limit: number): Promise<ReportRunRecord[]> {
    return this.runs.find({ createdAt: { $lt: cutoff } }, { limit });
  }

  async removeRuns(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.runs.remove({ _id: { $in: ids } }, { multi: true });
    await this.deliveries.remove({ runId: { $in: ids } }, { multi: true });
  }

  runsOfReport(reportId: string): Promise<ReportRunRecord[]> {
    return this.runs.find({ reportId });
  }

  // Deliveries

  /** The delivery, created pending if it is new (the id is the idempotency key). */
  async delivery(record: DeliveryRecord): Promise<DeliveryRecord> {
    try {
      return await this.deliveries.insert(record);
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
      return (await this.deliveries.findOne({ _id: record._id }))!;
    }
  }

  deliveriesOf(runId: string): Promise<DeliveryRecord[]> {
    return this.deliveries.find({ runId }, { sort: { recipient: 1 } });
  }

  /** Claims a delivery for an attempt, unless it was sent meanwhile (false then). */
  async claim(id: string, now: number): Promise<boolean> {
    return (await this.deliveries.update({ _id: id, status: { $ne: 'sent' } }, { $set: { status: 'sending', sendingSince: now } })) === 1;
  }

  async finishDelivery(id: string, outcome: DeliveryRecord['attempts'][number], status: 'sent' | 'failed'): Promise<void> {
    const delivery = await this.deliveries.findOne({ _id: id });
    if (!delivery) return;
    await this.deliveries.update(
      { _id: id },
      { $set: { status, attempts: [...delivery.attempts, outcome], ...(status === 'sent' ? { sentAt: outcome.at } : {}) }, $unset: { sendingSince: true } },
    );
  }

  /** Deliveries not sent: their jobs may be gone after a crash. */
  unsentDeliveries(): Promise<DeliveryRecord[]> {
    return this.deliveries.find({ status: { $in: ['pending', 'sending', 'failed'] } }, { limit: 1000 });
  }
}
