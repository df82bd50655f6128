import { Readable } from 'node:stream';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import type { EventsStore, InsertOptions, QueryParams } from './events-store.port.js';
import { EventsStoreError, insertSettings, SHARED_SETTINGS } from './events-store.port.js';

export interface ClickHouseServerOptions {
  url: string;
  user: string;
  password: string;
  database: string;
  queryTimeoutMs: number;
}

/** A ClickHouse server over HTTP via @clickhouse/client; the same SQL as the chDB adapter. */
export class ClickHouseServerEventsStore implements EventsStore {
  readonly kind = 'clickhouse-server' as const;

  private constructor(private readonly client: ClickHouseClient) {}

  /** Creates the database when missing (through a client not bound to it), then connects to it. */
  static async open(options: ClickHouseServerOptions): Promise<ClickHouseServerEventsStore> {
    const common = {
      url: options.url,
      username: options.user,
      password: options.password,
      request_timeout: options.queryTimeoutMs + 5_000,
      // Failures surface as EventsStoreError and are logged by whoever handles them.
      log: { level: ClickHouseLogLevel.OFF },
      clickhouse_settings: { max_execution_time: Math.ceil(options.queryTimeoutMs / 1000), ...SHARED_SETTINGS },
    };
    const bootstrap = createClient(common);
    try {
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${options.database}` });
    } catch (err) {
      throw toStoreError(err);
    } finally {
      await bootstrap.close();
    }
    return new ClickHouseServerEventsStore(createClient({ ...common, database: options.database }));
  }

  async query<T>(sql: string, params: QueryParams = {}): Promise<T[]> {
    try {
      const result = await this.client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
      return await result.json<T>();
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async command(sql: string, params: QueryParams = {}): Promise<void> {
    try {
      await this.client.command({ query: sql, query_params: params });
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async insertJsonEachRow(table: string, rows: Buffer, options: InsertOptions = {}): Promise<void> {
    if (rows.length === 0) return;
    try {
      const result = await this.client.exec({
        query: `INSERT INTO ${table} FORMAT JSONEachRow`,
        values: Readable.from([rows]),
        clickhouse_settings: insertSettings(options),
      });
      // Drain the (empty) response so the socket returns to the pool.
      for await (const _chunk of result.stream) void _chunk;
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async ping(): Promise<boolean> {
    try {
      const result = await this.client.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow' });
      await result.json();
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

function toStoreError(err: unknown): EventsStoreError {
  const e = err as { message?: string; code?: string | number };
  const code = e.code !== undefined && /^\d+$/.test(String(e.code)) ? Number(e.code) : undefined;
  return new EventsStoreError(e.message ?? String(err), code, { cause: err });
}
