import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DOCUMENT_STORE, type DocumentCollection, type DocumentStore, DuplicateKeyError, type Update } from '../infrastructure/documents/documents.port.js';
import type { AccountChannelsDocument, AlertDeliveryDocument, AlertDocument, AlertHistoryDocument, AlertStateDocument } from './alert.types.js';

/** A delivery left `sending` this long ago was cut off (its worker died): another may take it. */
export const SENDING_EXPIRES_MS = 2 * 60_000;

/**
 * Alert definitions, their evaluation state, history and the notification outbox, in the
 * documents store. Ids do the deduplication: a history entry's id is its alert, window and kind,
 * a delivery's its notification and target, so a retry or a second replica writing the same one
 * is refused. A state is written only over the version it was read at.
 */
@Injectable()
export class AlertsRepository implements OnModuleInit {
  private alerts!: DocumentCollection<AlertDocument>;
  private states!: DocumentCollection<AlertStateDocument>;
  private history!: DocumentCollection<AlertHistoryDocument>;
  private deliveries!: DocumentCollection<AlertDeliveryDocument>;
  private channels!: DocumentCollection<AccountChannelsDocument>;

  constructor(@Inject(DOCUMENT_STORE) private readonly store: DocumentStore) {}

  async onModuleInit(): Promise<void> {
    this.alerts = await this.store.collection<AlertDocument>('alerts');
    this.states = await this.store.collection<AlertStateDocument>('alert_states');
    this.history = await this.store.collection<AlertHistoryDocument>('alert_history');
    this.deliveries = await this.store.collection<AlertDeliveryDocument>('alert_deliveries');
    this.channels = await this.store.collection<AccountChannelsDocument>('alert_channels');
    await this.alerts.ensureIndex('accountId');
    await this.states.ensureIndex('nextDueAt', { sparse: true });
    await this.history.ensureIndex('alertId');
    await this.history.ensureIndex('at');
    await this.deliveries.ensureIndex('status');
    await this.deliveries.ensureIndex('createdAt');
  }

  // Definitions

  insert(doc: AlertDocument): Promise<AlertDocument> {
    return this.alerts.insert(doc);
  }

  find(accountId: string, id: string): Promise<AlertDocument | null> {
    return this.alerts.findOne({ _id: id, accountId });
  }

  findById(id: string): Promise<AlertDocument | null> {
    return this.alerts.findOne({ _id: id });
  }

  byIds(ids: string[]): Promise<AlertDocument[]> {
    return ids.length === 0 ? Promise.resolve([]) : this.alerts.find({ _id: { $in: ids } });
  }

  list(accountId: string, skip: number, limit: number): Promise<AlertDocument[]> {
    return this.alerts.find({ accountId }, { sort: { createdAt: 1 }, skip, limit });
  }

  count(accountId: string): Promise<number> {
    return this.alerts.count({ accountId });
  }

  /** Replaces a definition unless it changed since `version` was read (false then). */
  async replace(accountId: string, id: string, version: number, fields: Partial<AlertDocument>): Promise<boolean> {
    const unset: Record<string, true> = {};
    for (const key of ['dimension', 'threshold', 'anomaly'] as const) if (fields[key] === undefined) unset[key] = true;
    const set = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    const update: Update = { $set: set, $inc: { version: 1 }, ...(Object.keys(unset).length ? { $unset: unset } : {}) };
    return (await this.alerts.update({ _id: id, accountId, version }, update)) === 1;
  }

  async remove(accountId: string, id: string): Promise<boolean> {
    const removed = (await this.alerts.remove({ _id: id, accountId })) === 1;
    if (removed) {
      await this.states.remove({ _id: id });
      await this.history.remove({ alertId: id }, { multi: true });
      await this.deliveries.remove({ alertId: id, status: { $ne: 'sending' } }, { multi: true });
    }
    return removed;
  }

  // State

  state(alertId: string): Promise<AlertStateDocument | null> {
    return this.states.findOne({ _id: alertId });
  }

  statesOf(ids: string[]): Promise<AlertStateDocument[]> {
    return ids.length === 0 ? Promise.resolve([]) : this.states.find({ _id: { $in: ids } });
  }

  /** Creates the state if it is new (false when another writer made it first). */
  async createState(state: AlertStateDocument): Promise<boolean> {
    try {
      await this.states.insert(state);
      return true;
    } catch (err) {
      if (err instanceof DuplicateKeyError) return false;
      throw err;
    }
  }

  /** Writes a state over the version it was read at, bumping it (false when someone else wrote it meanwhile). */
  async saveState(state: AlertStateDocument, readVersion: number): Promise<boolean> {
    const { _id, version: _v, ...fields } = state;
    const unset: Record<string, true> = {};
    for (const key of ['lastError', 'nextDueAt'] as const) if (fields[key] === undefined) unset[key] = true;
    const set = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    const update: Update = { $set: { ...set, version: readVersion + 1 }, ...(Object.keys(unset).length ? { $unset: unset } : {}) };
    return (await this.states.update({ _id, version: readVersion }, update)) === 1;
  }

  /** Sets when the tick next looks at an alert (undefined: never, it is disabled). */
  async schedule(alertId: string, nextDueAt: number | undefined): Promise<void> {
    await this.states.update({ _id: alertId }, nextDueAt === undefined ? { $unset: { nextDueAt: true } } : { $set: { nextDueAt } });
  }

  /** States whose next window is due: what a tick enqueues. */
  due(now: number, limit: number): Promise<AlertStateDocument[]> {
    return this.states.find({ nextDueAt: { $lte: now } }, { sort: { nextDueAt: 1 }, limit });
  }

  // History

  /** Adds an entry unless one with its id is there (a retried evaluation writes the same ids). */
  async record(entry: AlertHistoryDocument): Promise<void> {
    try {
      await this.history.insert(entry);
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
    }
  }

  historyOf(alertId: string, skip: number, limit: number): Promise<AlertHistoryDocument[]> {
    return this.history.find({ alertId }, { sort: { at: -1, _id: -1 }, skip, limit });
  }

  historyCount(alertId: string): Promise<number> {
    return this.history.count({ alertId });
  }

  async pruneHistory(before: number): Promise<number> {
    const entries = await this.history.remove({ at: { $lt: before } }, { multi: true });
    const deliveries = await this.deliveries.remove({ createdAt: { $lt: before }, status: { $in: ['sent', 'failed', 'abandoned'] } }, { multi: true });
    return entries + deliveries;
  }

  // Outbox

  /** Adds a delivery unless it is there (the id is the idempotency key); answers the stored one. */
  async delivery(record: AlertDeliveryDocument): Promise<AlertDeliveryDocument> {
    try {
      return await this.deliveries.insert(record);
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
      return (await this.deliveries.findOne({ _id: record._id }))!;
    }
  }

  deliveryById(id: string): Promise<AlertDeliveryDocument | null> {
    return this.deliveries.findOne({ _id: id });
  }

  /**
   * Claims a delivery for one attempt: only one worker wins, and only while it is not sent (a
   * `sending` left by a worker that died is taken over after SENDING_EXPIRES_MS).
   */
  async claim(id: string, now: number): Promise<boolean> {
    const filter = {
      _id: id,
      $or: [{ status: { $in: ['pending', 'failed'] } }, { status: 'sending', sendingSince: { $lt: now - SENDING_EXPIRES_MS } }],
    };
    return (await this.deliveries.update(filter, { $set: { status: 'sending', sendingSince: now }, $inc: { attempts: 1 } })) === 1;
  }

  async finish(id: string, status: 'sent' | 'failed' | 'abandoned', at: number): Promise<void> {
    await this.deliveries.update({ _id: id, status: 'sending' }, { $set: { status, ...(status === 'sent' ? { sentAt: at } : {}) }, $unset: { sendingSince: true } });
  }

  /** Deliveries not sent (after a crash of the embedded process, their jobs are gone). */
  unsent(limit = 1000): Promise<AlertDeliveryDocument[]> {
    return this.deliveries.find({ status: { $in: ['pending', 'sending', 'failed'] } }, { limit });
  }

  deliveriesOf(alertId: string): Promise<AlertDeliveryDocument[]> {
    return this.deliveries.find({ alertId }, { sort: { createdAt: 1 } });
  }

  // The account's named channels

  channelsOf(accountId: string): Promise<AccountChannelsDocument | null> {
    return this.channels.findOne({ _id: accountId });
  }

  async saveChannels(doc: AccountChannelsDocument): Promise<void> {
    const { _id, ...fields } = doc;
    const unset: Record<string, true> = {};
    for (const key of ['slack', 'webhook'] as const) if (fields[key] === undefined) unset[key] = true;
    const set = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    if ((await this.channels.update({ _id }, { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) })) === 0) {
      try {
        await this.channels.insert(doc);
      } catch (err) {
        if (!(err instanceof DuplicateKeyError)) throw err;
        await this.channels.update({ _id }, { $set: set });
      }
    }
  }
}
