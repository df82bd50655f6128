import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type * as NedbTypes from '@seald-io/nedb';
import {
  type BaseDocument,
  type DocumentCollection,
  type DocumentStore,
  DuplicateKeyError,
  type Filter,
  type FindOptions,
  type Update,
} from './documents.port.js';

// NeDB is CommonJS whose typings declare a default export that Node's ESM loader does not see.
type Datastore<T> = InstanceType<typeof NedbTypes.default.default<T>>;
const Datastore = createRequire(import.meta.url)('@seald-io/nedb') as typeof NedbTypes.default.default;

/** Embedded documents: one NeDB append-only file per collection under DATA_DIR/documents. */
export class NedbDocumentStore implements DocumentStore {
  readonly kind = 'nedb' as const;
  private readonly collections = new Map<string, Promise<NedbCollection<BaseDocument>>>();
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = resolve(dataDir, 'documents');
    mkdirSync(this.dir, { recursive: true });
  }

  collection<T extends BaseDocument>(name: string): Promise<DocumentCollection<T>> {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`invalid collection name ${name}`);
    let pending = this.collections.get(name);
    if (!pending) {
      const db = new Datastore<BaseDocument>({ filename: join(this.dir, `${name}.db`) });
      const loaded = db.loadDatabaseAsync().then(() => new NedbCollection(db));
      this.collections.set(name, loaded);
      pending = loaded;
    }
    return pending as unknown as Promise<DocumentCollection<T>>;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    // Compact so the next start reads one clean file instead of replaying every update.
    for (const pending of this.collections.values()) {
      const c = await pending;
      await c.compact();
    }
    this.collections.clear();
  }
}

class NedbCollection<T extends BaseDocument> implements DocumentCollection<T> {
  constructor(private readonly db: Datastore<T>) {}

  async insert(doc: T): Promise<T> {
    try {
      return (await this.db.insertAsync(doc)) as T;
    } catch (err) {
      throw mapError(err);
    }
  }

  async findOne(filter: Filter): Promise<T | null> {
    return ((await this.db.findOneAsync(filter)) as T | null) ?? null;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    let cursor = this.db.findAsync(filter);
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit) cursor = cursor.limit(options.limit);
    return (await cursor) as T[];
  }

  async count(filter: Filter): Promise<number> {
    return await this.db.countAsync(filter);
  }

  async update(filter: Filter, update: Update, options: { multi?: boolean } = {}): Promise<number> {
    try {
      const { numAffected } = await this.db.updateAsync(filter, update, { multi: options.multi ?? false });
      return numAffected;
    } catch (err) {
      throw mapError(err);
    }
  }

  async remove(filter: Filter, options: { multi?: boolean } = {}): Promise<number> {
    return await this.db.removeAsync(filter, { multi: options.multi ?? false });
  }

  async ensureIndex(field: string, options: { unique?: boolean; sparse?: boolean } = {}): Promise<void> {
    await this.db.ensureIndexAsync({ fieldName: field, unique: options.unique, sparse: options.sparse });
  }

  async compact(): Promise<void> {
    await this.db.compactDatafileAsync();
  }
}

function mapError(err: unknown): Error {
  const e = err as { errorType?: string; message?: string };
  if (e?.errorType === 'uniqueViolated') return new DuplicateKeyError(e.message ?? 'duplicate key');
  return err as Error;
}
