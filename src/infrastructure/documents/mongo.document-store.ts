import mongoose, { type Connection, type Model } from 'mongoose';
import {
  type BaseDocument,
  type DocumentCollection,
  type DocumentStore,
  DuplicateKeyError,
  type Filter,
  type FindOptions,
  type Update,
} from './documents.port.js';
import { genericSchema, MONGO_SCHEMAS } from './mongo.schemas.js';

/**
 * Documents on MongoDB with mongoose: the same Mongo-style filters and updates as NeDB, so the
 * repositories do not change. A writer that must not overwrite a concurrent change uses a
 * version field in its filter (`update({_id, version}, {$set, $inc: {version: 1}})` matches 0
 * documents when someone else won), which behaves the same on both stores.
 */
export class MongoDocumentStore implements DocumentStore {
  readonly kind = 'mongodb' as const;
  private readonly collections = new Map<string, Promise<MongoCollection<BaseDocument>>>();

  private constructor(private readonly connection: Connection) {}

  static async connect(uri: string): Promise<MongoDocumentStore> {
    const connection = mongoose.createConnection(uri, { serverSelectionTimeoutMS: 10_000, autoIndex: false });
    await connection.asPromise();
    return new MongoDocumentStore(connection);
  }

  collection<T extends BaseDocument>(name: string): Promise<DocumentCollection<T>> {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`invalid collection name ${name}`);
    let pending = this.collections.get(name);
    if (!pending) {
      const model = this.connection.model<BaseDocument>(name, MONGO_SCHEMAS[name] ?? genericSchema(), name);
      // Indexes declared in the schema are built once here, not on every start of every replica's model.
      pending = model.syncIndexes().then(() => new MongoCollection(model));
      this.collections.set(name, pending);
    }
    return pending as unknown as Promise<DocumentCollection<T>>;
  }

  async ping(): Promise<boolean> {
    try {
      await this.connection.db!.admin().ping();
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

class MongoCollection<T extends BaseDocument> implements DocumentCollection<T> {
  constructor(private readonly model: Model<T>) {}

  async insert(doc: T): Promise<T> {
    try {
      await this.model.create(doc);
      return doc;
    } catch (err) {
      throw mapError(err);
    }
  }

  async findOne(filter: Filter): Promise<T | null> {
    return (await this.model.findOne(filter).lean().exec()) as T | null;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    let query = this.model.find(filter);
    if (options.sort) query = query.sort(options.sort);
    if (options.skip) query = query.skip(options.skip);
    if (options.limit) query = query.limit(options.limit);
    return (await query.lean().exec()) as T[];
  }

  async count(filter: Filter): Promise<number> {
    return this.model.countDocuments(filter).exec();
  }

  async update(filter: Filter, update: Update, options: { multi?: boolean } = {}): Promise<number> {
    try {
      const result = options.multi
        ? await this.model.updateMany(filter, update).exec()
        : await this.model.updateOne(filter, update).exec();
      return result.matchedCount;
    } catch (err) {
      throw mapError(err);
    }
  }

  async remove(filter: Filter, options: { multi?: boolean } = {}): Promise<number> {
    const result = options.multi ? await this.model.deleteMany(filter).exec() : await this.model.deleteOne(filter).exec();
    return result.deletedCount;
  }

  async ensureIndex(field: string, options: { unique?: boolean; sparse?: boolean } = {}): Promise<void> {
    await this.model.collection.createIndex({ [field]: 1 }, { unique: options.unique, sparse: options.sparse });
  }
}

function mapError(err: unknown): Error {
  const e = err as { code?: number; message?: string };
  if (e?.code === 11000) return new DuplicateKeyError(e.message ?? 'duplicate key');
  return err as Error;
}
