/**
 * The events store port: ClickHouse SQL, whoever runs it. Business modules depend on this
 * interface only; ClickHouseModule.forRoot picks chDB (embedded) or a ClickHouse server.
 * SQL uses bound parameters `{name:Type}`; user text never becomes SQL text.
 */
export const EVENTS_STORE = Symbol('EVENTS_STORE');

/**
 * Settings both adapters apply to every query, so results look the same on chDB and a server:
 * 64-bit integers (count(), sums) come back as JSON numbers.
 */
export const SHARED_SETTINGS = { output_format_json_quote_64bit_integers: 0 } as const;

/**
 * An insert's settings. With a token, the blocks the insert pushes into materialized views
 * (the rollups) are deduplicated too, so a retry is counted once there as well (the default
 * only since ClickHouse 24.x, so it is set).
 */
export function insertSettings(options: InsertOptions): Record<string, string | number> {
  if (!options.dedupToken) return {};
  return { insert_deduplication_token: options.dedupToken, deduplicate_blocks_in_dependent_materialized_views: 1 };
}

export type QueryParams = Record<string, string | number | boolean | readonly (string | number)[]>;

export interface InsertOptions {
  /** insert_deduplication_token: a retried insert with the same token is stored once. */
  dedupToken?: string;
}

export interface EventsStore {
  readonly kind: 'chdb' | 'clickhouse-server';
  /** Runs a SELECT; rows come back parsed from JSONEachRow (64-bit integers as numbers). */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]>;
  /** Runs a statement whose result is not needed (DDL, ALTER, INSERT … SELECT). */
  command(sql: string, params?: QueryParams): Promise<void>;
  /** Inserts newline-delimited JSON rows (JSONEachRow) as one insert. */
  insertJsonEachRow(table: string, rows: Buffer, options?: InsertOptions): Promise<void>;
  /** True when the store answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** A failure reaching or running the store (the caller decides whether to retry). */
export class EventsStoreError extends Error {
  constructor(
    message: string,
    readonly clickhouseCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EventsStoreError';
  }
}
