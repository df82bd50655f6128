import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
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

/**
 * Cookieless device ids, as Plausible makes them: a hash of the account, IP and user agent with
 * a random salt per UTC day. Salts live in the documents store, so every replica hashes alike;
 * the first replica to need a day's salt creates it, the others read it.
 */
@Injectable()
export class DailySaltService implements OnModuleInit {
  private salts!: DocumentCollection<SaltDocument>;
  private readonly cache = new Map<string, Promise<string>>();

  constructor(@Inject(DOCUMENT_STORE) private readonly store: DocumentStore) {}

  async onModuleInit(): Promise<void> {
    this.salts = await this.store.collection<SaltDocument>('salts');
  }

  async deviceId(accountId: string, ip: string, userAgent: string, at: number): Promise<string> {
    const salt = await this.saltFor(new Date(at).toISOString().slice(0, 10));
    return createHash('sha256').update(`${salt}|${accountId}|${ip}|${userAgent}`).digest('hex').slice(0, 32);
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

  private async loadOrCreate(day: string): Promise<string> {
    const existing = await this.salts.findOne({ _id: day });
    if (existing) return existing.salt;
    try {
      await this.salts.insert({ _id: day, salt: randomBytes(32).toString('base64'), createdAt: new Date().toISOString() });
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err; // another replica made it first
    }
    const cutoff = new Date(Date.parse(day) - KEEP_DAYS * 86_400_000).toISOString().slice(0, 10);
    await this.salts.remove({ _id: { $lt: cutoff } }, { multi: true });
    return (await this.salts.findOne({ _id: day }))!.salt;
  }
}
