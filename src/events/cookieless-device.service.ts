import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  DOCUMENT_STORE,
  type DocumentCollection,
  type DocumentStore,
  DuplicateKeyError,
} from '../infrastructure/documents/documents.port.js';

interface SaltDocument {
  /** the UTC day, YYYY-MM-DD */
  _id: string;
  salt: string;
  createdAt: string;
}

/** Salts older than this many days are deleted, so yesterday's device ids cannot be recomputed. */
const KEEP_DAYS = 2;

/** The cookieless device id of (account, IP, user agent) on one UTC day. Synchronous: the salt is already read. */
export type DeviceHasher = (accountId: string, ip: string, userAgent: string) => string;

/**
 * Cookieless device ids, as Plausible makes them: a hash of the account, IP and user agent with
 * a random salt per UTC day. Salts live in the documents store, so every replica hashes alike;
 * the first replica to need a day's salt creates it, the others read it. An enrichment step of
 * the ingest service (`cookielessDevice`), so every source that asks for it gets the same ids.
 */
@Injectable()
export class CookielessDeviceService {
  /** Opened on first use: a worker, or an API that only takes server-side events, never needs it. */
  private salts?: Promise<DocumentCollection<SaltDocument>>;
  private readonly cache = new Map<string, Promise<string>>();

  constructor(@Inject(DOCUMENT_STORE) private readonly store: DocumentStore) {}

  /** The hasher for the UTC day of `at` (epoch ms): one await per request, not per event. */
  async hasherFor(at: number): Promise<DeviceHasher> {
    const salt = await this.saltFor(new Date(at).toISOString().slice(0, 10));
    return (accountId, ip, userAgent) => createHash('sha256').update(`${salt}|${accountId}|${ip}|${userAgent}`).digest('hex').slice(0, 32);
  }

  private saltFor(day: string): Promise<string> {
    let salt = this.cache.get(day);
    if (!salt) {
      salt = this.loadOrCreate(day);
      salt.catch(() => this.cache.delete(day));
      this.cache.set(day, salt);
      for (const key of this.cache.keys()) if (key < day) this.cache.delete(key);
    }
    return salt;
  }

  private collection(): Promise<DocumentCollection<SaltDocument>> {
    if (!this.salts) {
      const opening = this.store.collection<SaltDocument>('salts');
      opening.catch(() => {
        if (this.salts === opening) this.salts = undefined;
      });
      this.salts = opening;
    }
    return this.salts;
  }

  private async loadOrCreate(day: string): Promise<string> {
    const salts = await this.collection();
    const existing = await salts.findOne({ _id: day });
    if (existing) return existing.salt;
    try {
      await salts.insert({ _id: day, salt: randomBytes(32).toString('base64'), createdAt: new Date().toISOString() });
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err; // another replica made it first
    }
    const cutoff = new Date(Date.parse(day) - KEEP_DAYS * 86_400_000).toISOString().slice(0, 10);
    await salts.remove({ _id: { $lt: cutoff } }, { multi: true });
    return (await salts.findOne({ _id: day }))!.salt;
  }
}
