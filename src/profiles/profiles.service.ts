import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import type { StoredEvent } from '../events/event.types.js';
import { EVENTS_STORE, type EventsStore } from '../infrastructure/clickhouse/events-store.port.js';
import { EVENTS_TABLE } from '../infrastructure/clickhouse/schema/tables.js';
import { EVENT_SEARCH, type EventSearch } from '../infrastructure/search/event-search.port.js';
import { aliasGroups, foldProfile, type ProfileState } from './profile-fold.js';

const PROFILE_OPERATIONS = ['identify', 'increment', 'decrement'];
const RECENT_EVENTS = 20;

export interface ProfileView extends ProfileState {
  id: string;
  /** every id linked to this one by alias events */
  ids: string[];
  firstSeen: string | null;
  lastSeen: string | null;
}

/**
 * Profiles derived from the identify, increment, decrement and alias events the track API
 * stores: nothing is kept beside the events, so every replica answers the same and a profile is
 * exactly what its events say (each stored once by the pipeline).
 */
@Injectable()
export class ProfilesService {
  constructor(
    @Inject(EVENTS_STORE) private readonly store: EventsStore,
    @Inject(EVENT_SEARCH) private readonly search: EventSearch,
  ) {}

  async get(accountId: string, id: string): Promise<ProfileView & { events: StoredEvent[] }> {
    const ids = (await this.aliases(accountId)).get(id) ?? [id];
    const [profile] = await this.build(accountId, [ids]);
    if (!profile || profile.firstSeen === null) throw ApiError.notFound('profile');
    const pages = await Promise.all(ids.map((userId) => this.search.search({ accountId, terms: [], userId, limit: RECENT_EVENTS })));
    const events = pages
      .flatMap((p) => p.events)
      .sort((a, b) => b.timestamp.localeCompare(a.timestamp))
      .slice(0, RECENT_EVENTS);
    return { ...profile, id, events };
  }

  /** Identified profiles, newest activity first, whose id or identify data contains `search`. */
  async list(accountId: string, search: string | undefined, offset: number, limit: number) {
    const params = { a: accountId, q: search ?? '', offset, limit };
    const where = `PREWHERE account_id = {a:String} AND event_name = 'identify' AND event_type = 'identify'
      WHERE user_id != '' AND ({q:String} = '' OR positionCaseInsensitiveUTF8(user_id, {q:String}) > 0
        OR positionCaseInsensitiveUTF8(properties, {q:String}) > 0)`;
    const [page, total] = await Promise.all([
      this.store.query<{ id: string }>(
        `SELECT user_id AS id, max(timestamp) AS last FROM ${EVENTS_TABLE} ${where} GROUP BY user_id ORDER BY last DESC, id LIMIT {offset:UInt32}, {limit:UInt32}`,
        params,
      ),
      this.store.query<{ n: number }>(`SELECT uniqExact(user_id) AS n FROM ${EVENTS_TABLE} ${where}`, params),
    ]);
    const groups = await this.aliases(accountId);
    const profiles = await this.build(accountId, page.map((r) => groups.get(r.id) ?? [r.id]));
    return { profiles: profiles.map((p, i) => ({ ...p, id: page[i]!.id })), total: Number(total[0]?.n ?? 0), offset, limit };
  }

  private async aliases(accountId: string): Promise<Map<string, string[]>> {
    const links = await this.store.query<{ a: string; b: string }>(
      `SELECT user_id AS a, JSONExtractString(properties, 'alias') AS b FROM ${EVENTS_TABLE}
       PREWHERE account_id = {a:String} AND event_name = 'alias' AND event_type = 'alias'
       WHERE a != '' AND b != ''`,
      { a: accountId },
    );
    return aliasGroups(links.map((l) => [l.a, l.b]));
  }

  /** Each group of ids folded into one profile, in one query for all groups. */
  private async build(accountId: string, groups: string[][]): Promise<ProfileView[]> {
    const all = [...new Set(groups.flat())];
    if (all.length === 0) return [];
    const [operations, seen] = await Promise.all([
      this.store.query<{ u: string; t: string; p: string }>(
        `SELECT user_id AS u, event_type AS t, properties AS p FROM ${EVENTS_TABLE}
         PREWHERE account_id = {a:String} AND event_name IN {ops:Array(String)}
         WHERE user_id IN {ids:Array(String)} AND event_type = event_name
         ORDER BY timestamp, received_at, event_id`,
        { a: accountId, ops: PROFILE_OPERATIONS, ids: all },
      ),
      this.store.query<{ u: string; first: number; last: number }>(
        `SELECT user_id AS u, toUnixTimestamp64Milli(min(timestamp)) AS first, toUnixTimestamp64Milli(max(timestamp)) AS last
         FROM ${EVENTS_TABLE} PREWHERE account_id = {a:String} WHERE user_id IN {ids:Array(String)} GROUP BY user_id`,
        { a: accountId, ids: all },
      ),
    ]);
    return groups.map((ids) => {
      const mine = new Set(ids);
      const state = foldProfile(operations.filter((o) => mine.has(o.u)).map((o) => ({ type: o.t, properties: JSON.parse(o.p) })));
      const times = seen.filter((s) => mine.has(s.u));
      const first = times.length ? Math.min(...times.map((s) => Number(s.first))) : null;
      const last = times.length ? Math.max(...times.map((s) => Number(s.last))) : null;
      return {
        id: ids[0]!,
        ids,
        ...state,
        firstSeen: first === null ? null : new Date(first).toISOString(),
        lastSeen: last === null ? null : new Date(last).toISOString(),
      };
    });
  }
}
