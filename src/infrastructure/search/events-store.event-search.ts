import { type StoredColumns, toStoredEvent } from '../../events/stored-event.js';
import type { EventsStore, QueryParams } from '../clickhouse/events-store.port.js';
import { EVENTS_TABLE } from '../clickhouse/schema/tables.js';
import type { EventSearch, EventSearchPage, EventSearchQuery } from './event-search.port.js';

/** A row as the search query selects it: the stored columns, with the id and times converted. */
type SearchRow = Omit<StoredColumns, 'event_id'> & {
  properties: string;
  id: string;
  ts: number;
  received_ms: number;
};

/**
 * Search on the events store: hasToken() over `search_text` uses the tokenbf_v1 skip index,
 * the other filters use the sort key and bloom filters. Newest first, keyset-paged on
 * (timestamp, event_id) so pages stay stable while events keep arriving.
 */
export class EventsStoreEventSearch implements EventSearch {
  readonly kind = 'events-store' as const;

  constructor(private readonly store: EventsStore) {}

  /** The events store is the index: nothing more to do once the rows are stored. */
  async index(): Promise<void> {}

  async close(): Promise<void> {}

  /**
   * Newest first, a window of time at a time: the latest day before the cursor (or `to`), then
   * windows twice as long back, until the page is full or the range is done. The sort key holds
   * the day, so a page reads the days it needs, not the whole range again (a 100,000-row export
   * over 30 days pages through 10 million events); the windows adjoin, so nothing is read twice.
   */
  async search(query: EventSearchQuery): Promise<EventSearchPage> {
    const needed = query.limit + 1;
    const rows: SearchRow[] = [];
    let end = query.after ? query.after.t + 1 : (query.to ?? Date.now() + DAY);
    if (query.to !== undefined) end = Math.min(end, query.to);
    let span = DAY;
    let start = Math.floor((end - 1) / DAY) * DAY;
    for (;;) {
      const lower = Math.max(query.from ?? 0, start);
      if (lower < end) {
        const { sql, params } = buildSearchSql({ ...query, from: lower, to: end, limit: needed - rows.length - 1 });
        rows.push(...(await this.store.query<SearchRow>(sql, params)));
      }
      if (rows.length >= needed || lower <= (query.from ?? 0)) break;
      end = lower;
      span *= 2;
      start = end - span;
    }
    const hasMore = rows.length > query.limit;
    const page = hasMore ? rows.slice(0, query.limit) : rows;
    const events = page.map((r) =>
      toStoredEvent(
        { ...r, event_id: r.id },
        { timestamp: new Date(Number(r.ts)).toISOString(), receivedAt: new Date(Number(r.received_ms)).toISOString() },
        JSON.parse(r.properties) as Record<string, unknown>,
      ),
    );
    const lastRow = page.at(-1);
    return { events, last: hasMore && lastRow ? { t: Number(lastRow.ts), id: lastRow.id } : null };
  }
}

const DAY = 86_400_000;

export function buildSearchSql(query: EventSearchQuery): { sql: string; params: QueryParams } {
  const where = ['account_id = {accountId:String}'];
  const params: QueryParams = { accountId: query.accountId, limit: query.limit + 1 };
  if (query.from !== undefined) {
    where.push('timestamp >= fromUnixTimestamp64Milli({from:Int64})');
    params.from = query.from;
  }
  if (query.to !== undefined) {
    where.push('timestamp < fromUnixTimestamp64Milli({to:Int64})');
    params.to = query.to;
  }
  for (const field of ['eventType', 'eventName', 'userId', 'sessionId'] as const) {
    const value = query[field];
    if (value === undefined) continue;
    const column = field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    where.push(`${column} = {${field}:String}`);
    params[field] = value;
  }
  query.terms.forEach((term, i) => {
    where.push(`hasToken(search_text, {term${i}:String})`);
    params[`term${i}`] = term;
  });
  if (query.after) {
    where.push('(timestamp, event_id) < (fromUnixTimestamp64Milli({afterT:Int64}), toUUID({afterId:String}))');
    params.afterT = query.after.t;
    params.afterId = query.after.id;
  }
  const sql = `SELECT toString(event_id) AS id, event_type, event_name,
      toUnixTimestamp64Milli(timestamp) AS ts, toUnixTimestamp64Milli(received_at) AS received_ms,
      session_id, user_id, anonymous_id, properties, ip, user_agent, locale,
      browser, browser_version, os, os_version, device_type,
      origin, path, title, referrer, referrer_name, referrer_type,
      utm_source, utm_medium, utm_campaign, utm_term, utm_content, country, region, city, is_bot
    FROM ${EVENTS_TABLE}
    WHERE ${where.join('\n      AND ')}
    ORDER BY timestamp DESC, event_id DESC
    LIMIT {limit:UInt32}`;
  return { sql, params };
}

