import { Inject, Injectable } from '@nestjs/common';
import { EVENTS_STORE, type EventsStore } from '../infrastructure/clickhouse/events-store.port.js';
import { SESSION_DELTAS_TABLE, SESSION_LATEST_TABLE, SESSION_MOVES_TABLE, VISITOR_IDS_TABLE } from '../infrastructure/clickhouse/schema/tables.js';
import { FIRST_EVENT_COLUMNS, lastVisitorIdQuery, summarizeQuery, visitorIdsQuery } from './session-summaries.js';

/** Session ids per account. */
export type TouchedSessions = Map<string, Set<string>>;

const ACCOUNT = /"account_id":("(?:[^"\\]|\\.)*")/;
const SESSION = /"session_id":("(?:[^"\\]|\\.)*")/;

/** The sessions the JSONEachRow rows belong to, added to `into`. */
export function sessionsOf(rows: Buffer | string, into: TouchedSessions = new Map()): TouchedSessions {
  for (const line of rows.toString('utf8').split('\n')) {
    const session = SESSION.exec(line);
    if (!session || session[1] === '""') continue;
    const account = ACCOUNT.exec(line);
    if (!account) continue;
    addSession(into, JSON.parse(account[1]!) as string, JSON.parse(session[1]!) as string);
  }
  return into;
}

export function addSession(into: TouchedSessions, account: string, session: string): void {
  if (!session) return;
  const ids = into.get(account) ?? new Set<string>();
  ids.add(session);
  into.set(account, ids);
}

/**
 * Sessions per query. Larger chunks cost less per session (about 11,000 sessions/s at 5,000 on
 * chDB here, 3,000 at 500). On a ClickHouse server the ids travel in the URL: 1,000 keep it near
 * 30 KB, which proxies pass.
 */
const CHUNK = { chdb: 5000, 'clickhouse-server': 1000 } as const;

/**
 * Brings the summaries and rollups of sessions up to date after their events are stored (see
 * session-summaries.ts), in two inserts, each with a deduplication token derived from the batch:
 * the deltas (which the rollup views add up), then the new summaries into `session_latest`.
 *
 * A retried batch therefore counts no change twice. Until the second insert, the deltas are
 * computed from the same previous summaries, so they are the same: an insert (or a view's part
 * of it) that went through is dropped by its token, and one that did not goes through now. After
 * it, the deltas of unchanged sessions cancel out. An INSERT … SELECT is not used because
 * ClickHouse deduplicates those by their data, not the token.
 */
@Injectable()
export class SessionSummarizer {
  constructor(@Inject(EVENTS_STORE) private readonly store: EventsStore) {}

  async summarize(touched: TouchedSessions, token: string): Promise<void> {
    let part = 0;
    for (const account of [...touched.keys()].sort()) {
      const ids = [...touched.get(account)!].sort();
      const chunk = CHUNK[this.store.kind];
      for (let i = 0; i < ids.length; i += chunk) {
        const deltas = await this.store.query<Delta>(summarizeQuery(), { account, ids: ids.slice(i, i + chunk) });
        const chunkToken = `${token}:sessions:${part++}`;
        await this.identifyVisitors(account, deltas, chunkToken);
        await this.applyDeltas(deltas, chunkToken);
        await this.recordMoves(deltas, chunkToken);
        await this.recordLatest(
          deltas.filter((d) => d.sign === 1).map(({ sign: _, ...summary }) => summary),
          chunkToken,
        );
      }
    }
  }

  /**
   * Sets the dense visitor id of each new summary (the ones taken out keep theirs), giving the
   * next ids to visitors seen for the first time. Writers take turns (the writer lock), so the
   * highest id cannot move meanwhile; a retry finds the ids an earlier attempt stored.
   */
  private async identifyVisitors(account: string, deltas: Delta[], token: string): Promise<void> {
    const fresh = deltas.filter((d) => d.sign === 1);
    const visitors = [...new Set(fresh.map((d) => d.visitor))].sort();
    if (visitors.length === 0) return;
    const known = new Map(
      (await this.store.query<{ visitor: string; id: number }>(visitorIdsQuery(), { account, visitors })).map((r) => [r.visitor, Number(r.id)]),
    );
    const unknown = visitors.filter((v) => !known.has(v));
    if (unknown.length > 0) {
      const [last] = await this.store.query<{ id: number }>(lastVisitorIdQuery(), { account });
      const first = Number(last?.id ?? 0) + 1;
      const rows = unknown.map((visitor, i) => ({ account_id: account, visitor, id: first + i }));
      await this.store.insertJsonEachRow(VISITOR_IDS_TABLE, jsonLines(rows), { dedupToken: `${token}:visitors` });
      for (const r of rows) known.set(r.visitor, r.id);
    }
    for (const d of fresh) d.visitor_id = known.get(d.visitor)!;
  }

  protected applyDeltas(deltas: object[], token: string): Promise<void> {
    return this.store.insertJsonEachRow(SESSION_DELTAS_TABLE, jsonLines(deltas), { dedupToken: token });
  }

  /**
   * Records the sessions whose start or first event this change moves (session_moves), before
   * their new summaries are visible: until then, every version of them agrees on those fields.
   */
  private async recordMoves(deltas: Delta[], token: string): Promise<void> {
    const key = (d: Delta) => JSON.stringify(FIRST_EVENT_COLUMNS.map((c) => d[c]));
    const before = new Map(deltas.filter((d) => d.sign === -1).map((d) => [d.session_id, key(d)]));
    const now = Math.floor(Date.now() / 1000);
    const moved = deltas
      .filter((d) => d.sign === 1 && before.has(d.session_id) && before.get(d.session_id) !== key(d))
      .map((d) => ({ account_id: d.account_id, session_id: d.session_id, moved: now }));
    if (moved.length > 0) await this.store.insertJsonEachRow(SESSION_MOVES_TABLE, jsonLines(moved), { dedupToken: `${token}:moves` });
  }

  protected recordLatest(summaries: object[], token: string): Promise<void> {
    return this.store.insertJsonEachRow(SESSION_LATEST_TABLE, jsonLines(summaries), { dedupToken: token });
  }
}

/** A row of session_deltas as the summarize query answers it. */
interface Delta {
  account_id: string;
  session_id: string;
  sign: number;
  visitor: string;
  visitor_id: number;
  [column: string]: unknown;
}

const jsonLines = (rows: object[]) => Buffer.from(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
