import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { StatusRegistry } from '../common/status/status.registry.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { EVENTS_STORE, type EventsStore } from '../infrastructure/clickhouse/events-store.port.js';
import { USER_KEY } from '../infrastructure/clickhouse/query/query-kit.js';
import { BACKFILLS_TABLE, EVENTS_TABLE, ROLLUP_TABLE } from '../infrastructure/clickhouse/schema/tables.js';

/** The backfill's name in the backfills table (migration 12 writes its first record). */
export const APPROXIMATE_UNIQUES_BACKFILL = 'events_by_minute approximate uniques';
const READY_CHECK_MS = 5_000;

interface BackfillRecord {
  cutover: string;
  next_day: string;
  last_day: string;
  finished: number;
}

/**
 * Gives the per-minute rollup rows stored before migration 12 their uniqCombined64 states, one UTC
 * day of events per chunk, after boot and on writers only (never on API processes, never holding
 * the boot). Each chunk inserts, for the day's minutes, rows that add nothing but the sketches:
 * `events` 0 and empty exact states, which the AggregatingMergeTree merges into the rows there.
 * A sketch merged twice is the same sketch (a union), so a chunk cut off by kill -9 is simply run
 * again on restart: the record of progress moves only after a chunk is stored, and redoing one
 * changes nothing. Until the record says finished, `ready()` is false and approximate metrics read
 * raw events.
 */
@Injectable()
export class ApproximateUniquesBackfill implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('backfill');
  private finished = false;
  private checkedAt = 0;
  private stopping = false;
  private running: Promise<void> | undefined;
  /** What /ready shows (writers only): the day the next chunk does, and the last one. */
  private progress: { nextDay?: string; lastDay?: string; chunks: number } = { chunks: 0 };

  constructor(
    @Inject(EVENTS_STORE) private readonly store: EventsStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly status: StatusRegistry,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.role === 'api') return;
    this.status.register('approximateUniquesBackfill', () => ({ ...this.progress, finished: this.finished }));
    this.running = this.run().catch((err: unknown) => this.logger.error({ err }, 'approximate uniques backfill stopped; it resumes at the next start'));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** Whether every rollup row has its sketches (checked at most every few seconds until it has). */
  async ready(): Promise<boolean> {
    if (this.finished) return true;
    const now = Date.now();
    if (now - this.checkedAt < READY_CHECK_MS) return false;
    this.checkedAt = now;
    const record = await this.record();
    this.finished = record === undefined || Number(record.finished) === 1;
    return this.finished;
  }

  /** Runs the remaining chunks; resolves when finished or asked to stop. */
  async run(): Promise<void> {
    let record = await this.record();
    if (!record || Number(record.finished) === 1) return void (this.finished = true);
    const started = performance.now();
    let days = 0;
    while (!this.stopping) {
      const day = record.next_day;
      this.progress = { nextDay: day, lastDay: record.last_day, chunks: days };
      if (day > record.last_day) {
        await this.save(record, day, true);
        this.finished = true;
        this.logger.log({ days, seconds: Math.round((performance.now() - started) / 1000) }, 'approximate uniques backfill finished');
        return;
      }
      await this.store.command(
        `INSERT INTO ${ROLLUP_TABLE} (account_id, minute, event_name, event_type, events, users, sessions, users_approx, sessions_approx)
         SELECT account_id, toStartOfMinute(timestamp) AS minute, event_name, event_type, toUInt64(0),
           uniqExactStateIf(${USER_KEY}, 0), uniqExactStateIf(session_id, 0),
           uniqCombined64StateIf(${USER_KEY}, ${USER_KEY} != ''), uniqCombined64StateIf(session_id, session_id != '')
         FROM ${EVENTS_TABLE}
         WHERE toDate(timestamp) = {day:Date} AND is_bot = 0
         GROUP BY account_id, minute, event_name, event_type`,
        { day },
      );
      // The next day that has events (a store's history has gaps), else past the last one.
      const [next] = await this.store.query<{ day: string | null }>(
        `SELECT toString(min(toDate(timestamp))) AS day, count() AS n FROM ${EVENTS_TABLE}
         WHERE toDate(timestamp) > {day:Date} AND toDate(timestamp) <= {last:Date} HAVING n > 0`,
        { day, last: record.last_day },
      );
      record = await this.save(record, next?.day ?? nextDay(record.last_day), false);
      days++;
      if (this.config.backfillPauseMs > 0) await new Promise((r) => setTimeout(r, this.config.backfillPauseMs));
    }
  }

  private async record(): Promise<BackfillRecord | undefined> {
    const [record] = await this.store.query<BackfillRecord>(
      `SELECT toString(cutover) AS cutover, toString(next_day) AS next_day, toString(last_day) AS last_day, finished
       FROM ${BACKFILLS_TABLE} FINAL WHERE name = {name:String}`,
      { name: APPROXIMATE_UNIQUES_BACKFILL },
    );
    return record;
  }

  private async save(record: BackfillRecord, nextDayToDo: string, finished: boolean): Promise<BackfillRecord> {
    await this.store.command(
      `INSERT INTO ${BACKFILLS_TABLE} (name, cutover, next_day, last_day, finished, updated_at)
       VALUES ({name:String}, {cutover:DateTime64(3, 'UTC')}, {next:Date}, {last:Date}, {finished:UInt8}, now64(3))`,
      { name: APPROXIMATE_UNIQUES_BACKFILL, cutover: record.cutover, next: nextDayToDo, last: record.last_day, finished: finished ? 1 : 0 },
    );
    return { ...record, next_day: nextDayToDo, finished: finished ? 1 : 0 };
  }
}

/** The day after a 'YYYY-MM-DD' day. */
function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
