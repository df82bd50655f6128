import { Inject, Injectable } from '@nestjs/common';
import { EVENTS_STORE, type EventsStore } from '../infrastructure/clickhouse/events-store.port.js';
import { toClickHouseTime } from '../infrastructure/clickhouse/clickhouse-time.js';
import { EVENTS_TABLE } from '../infrastructure/clickhouse/schema/tables.js';

const STORED_IDS_CHUNK = 1000;

/** Writes to the `events` table (reads go through the search port and, later, query builders). */
@Injectable()
export class EventsRepository {
  constructor(@Inject(EVENTS_STORE) private readonly store: EventsStore) {}

  /** One insert; a retry with the same token is stored once. */
  insert(rows: Buffer, dedupToken: string): Promise<void> {
    return this.store.insertJsonEachRow(EVENTS_TABLE, rows, { dedupToken });
  }

  /**
   * Which of these rows' event ids the table already holds, as event id → session id. Bounded by
   * the rows' accounts and receive times, from `sinceMs` when given (copies received earlier, as
   * for a source's redelivered message), so it reads a few granules (received_at minmax and
   * event_id bloom indexes).
   */
  async storedIds(rows: { account_id: string; event_id: string; received_at: string }[], sinceMs?: number): Promise<Map<string, string>> {
    // Query parameters travel in the URL on a ClickHouse server: keep each query's list short.
    if (rows.length > STORED_IDS_CHUNK) {
      const found = new Map<string, string>();
      for (let i = 0; i < rows.length; i += STORED_IDS_CHUNK) {
        for (const [id, session] of await this.storedIds(rows.slice(i, i + STORED_IDS_CHUNK), sinceMs)) found.set(id, session);
      }
      return found;
    }
    if (rows.length === 0) return new Map();
    let from = rows[0]!.received_at;
    let to = from;
    for (const r of rows) {
      if (r.received_at < from) from = r.received_at;
      if (r.received_at > to) to = r.received_at;
    }
    if (sinceMs !== undefined) {
      const since = toClickHouseTime(sinceMs);
      if (since < from) from = since;
    }
    const found = await this.store.query<{ id: string; session: string }>(
      `SELECT toString(event_id) AS id, session_id AS session FROM ${EVENTS_TABLE}
       WHERE account_id IN {accounts:Array(String)}
         AND received_at BETWEEN {from:DateTime64(3)} AND {to:DateTime64(3)}
         AND event_id IN {ids:Array(UUID)}`,
      {
        accounts: [...new Set(rows.map((r) => r.account_id))],
        from,
        to,
        ids: rows.map((r) => r.event_id),
      },
    );
    return new Map(found.map((r) => [r.id, r.session]));
  }
}
