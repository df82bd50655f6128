import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EventsStore, InsertOptions, QueryParams } from './events-store.port.js';
import { EventsStoreError, insertSettings, SHARED_SETTINGS } from './events-store.port.js';

/**
 * In process, ClickHouse's JIT compiles an expression the third time it sees it, on the query
 * that runs it the fourth time: 50–80 ms more for an insights query, on the 2 cores the service
 * shares. Interpreted, the insights queries measured the same in steady state (bench/insights),
 * so the embedded engine does without it.
 */
const EMBEDDED_SETTINGS = { compile_expressions: 0, compile_aggregate_expressions: 0, compile_sort_description: 0 };
const SETTINGS_ARGS = Object.entries({ ...SHARED_SETTINGS, ...EMBEDDED_SETTINGS }).map(([k, v]) => `--${k}=${v}`);

type ChdbModule = typeof import('chdb');
type ChdbSession = InstanceType<ChdbModule['Session']>;

interface PooledSession {
  session: ChdbSession;
  inFlight: number;
}

/**
 * ClickHouse's engine in-process (chDB). One chDB session runs one statement at a time, but
 * several sessions on one path run in parallel and see each other's writes. So: one session
 * reserved for writes (inserts never queue behind a long read) and a few for reads, each read
 * going to the least busy one. Every query is bounded by max_execution_time.
 */
export class ChdbEventsStore implements EventsStore {
  readonly kind = 'chdb' as const;
  private closed = false;

  private constructor(
    private readonly chdb: ChdbModule,
    private readonly writer: PooledSession,
    private readonly readers: PooledSession[],
  ) {}

  /** chDB is loaded lazily, only when it is the chosen adapter. */
  static async open(dataDir: string, sessions: number, queryTimeoutMs: number): Promise<ChdbEventsStore> {
    let chdb: ChdbModule;
    try {
      chdb = await import('chdb');
    } catch (err) {
      throw new EventsStoreError(
        'chDB is not installed (it is an optional dependency); run `npm install` with optional dependencies or set CLICKHOUSE_URL',
        undefined,
        { cause: err },
      );
    }
    const path = resolve(dataDir, 'chdb');
    mkdirSync(path, { recursive: true });
    const args = [`--max_execution_time=${Math.ceil(queryTimeoutMs / 1000)}`, ...SETTINGS_ARGS];
    const open = (): PooledSession => ({
      session: new chdb.Session(path, { connectionArgs: args }),
      inFlight: 0,
    });
    const writer = open();
    const readers = Array.from({ length: Math.max(1, sessions - 1) }, open);
    return new ChdbEventsStore(chdb, writer, readers);
  }

  async query<T>(sql: string, params: QueryParams = {}): Promise<T[]> {
    const text = await this.run(this.pickReader(), `${sql}\nFORMAT JSONEachRow`, params);
    return parseJsonEachRow<T>(text);
  }

  async command(sql: string, params: QueryParams = {}): Promise<void> {
    await this.run(this.writer, sql, params);
  }

  async insertJsonEachRow(table: string, rows: Buffer, options: InsertOptions = {}): Promise<void> {
    if (rows.length === 0) return;
    this.assertOpen();
    const settings = insertSettings(options);
    this.writer.inFlight++;
    try {
      await this.writer.session.insert({ table, values: rows, format: 'JSONEachRow', settings });
    } catch (err) {
      throw toStoreError(err);
    } finally {
      this.writer.inFlight--;
    }
  }

  async ping(): Promise<boolean> {
    try {
      await this.query('SELECT 1 AS ok');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [this.writer, ...this.readers]) s.session.close();
    // A second data directory can only be opened once everything native has finished.
    await this.chdb.drainPending();
  }

  private pickReader(): PooledSession {
    let best = this.readers[0]!;
    for (const r of this.readers) if (r.inFlight < best.inFlight) best = r;
    return best;
  }

  private async run(target: PooledSession, sql: string, params: QueryParams): Promise<string> {
    this.assertOpen();
    target.inFlight++;
    try {
      const result =
        Object.keys(params).length === 0
          ? await target.session.queryAsync(sql, { format: 'JSONEachRow' })
          : await target.session.queryBindAsync(sql, params, { format: 'JSONEachRow' });
      return result.text();
    } catch (err) {
      throw toStoreError(err);
    } finally {
      target.inFlight--;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new EventsStoreError('events store is closed');
  }
}

function toStoreError(err: unknown): EventsStoreError {
  if (err instanceof EventsStoreError) return err;
  const e = err as { message?: string; clickhouseCode?: number; code?: number };
  const code = typeof e.clickhouseCode === 'number' ? e.clickhouseCode : undefined;
  return new EventsStoreError(e.message ?? String(err), code, { cause: err });
}

export function parseJsonEachRow<T>(text: string): T[] {
  const rows: T[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (end > start) rows.push(JSON.parse(text.slice(start, end)) as T);
    start = end + 1;
  }
  return rows;
}
