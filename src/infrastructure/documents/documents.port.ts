/**
 * The documents port: small JSON documents (accounts, clients, definitions) with Mongo-style
 * filters, so the same repository code runs on NeDB (embedded) and MongoDB (production).
 */
export const DOCUMENT_STORE = Symbol('DOCUMENT_STORE');

export interface BaseDocument {
  _id: string;
}

/** A Mongo-style filter: field equality, and operators such as $in, $gt, $regex, $or. */
export type Filter = Record<string, unknown>;

export interface FindOptions {
  sort?: Record<string, 1 | -1>;
  skip?: number;
  limit?: number;
}

export interface Update {
  $set?: Record<string, unknown>;
  $unset?: Record<string, true>;
  $inc?: Record<string, number>;
}

export interface DocumentCollection<T extends BaseDocument> {
  insert(doc: T): Promise<T>;
  findOne(filter: Filter): Promise<T | null>;
  find(filter: Filter, options?: FindOptions): Promise<T[]>;
  count(filter: Filter): Promise<number>;
  /** Returns how many documents matched and were updated. */
  update(filter: Filter, update: Update, options?: { multi?: boolean }): Promise<number>;
  /** Returns how many documents were removed. */
  remove(filter: Filter, options?: { multi?: boolean }): Promise<number>;
  ensureIndex(field: string, options?: { unique?: boolean; sparse?: boolean }): Promise<void>;
}

export interface DocumentStore {
  readonly kind: 'nedb' | 'mongodb';
  collection<T extends BaseDocument>(name: string): Promise<DocumentCollection<T>>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Thrown when a unique index refuses a write. */
export class DuplicateKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DuplicateKeyError';
  }
}
