import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { toClickHouseTime } from '../infrastructure/clickhouse/clickhouse-time.js';
import { EVENTS_STORE, type EventsStore } from '../infrastructure/clickhouse/events-store.port.js';
import { DEVICE_SESSIONS_TABLE } from '../infrastructure/clickhouse/schema/tables.js';

export interface SessionState {
  id: string;
  start: number;
  last: number;
}

export interface SessionCandidate {
  account: string;
  device: string;
  /** event time, epoch ms */
  at: number;
}

const key = (account: string, device: string) => `${account}\u0000${device}`;

/** A session's id from its device and first event: the same events always get the same id. */
export function sessionId(account: string, device: string, start: number): string {
  return `ses_${createHash('sha256').update(`${account}|${device}|${start}`).digest('hex').slice(0, 24)}`;
}

/** What one call of `assignSessions` did. */
export interface Assignment {
  /** The session id of each candidate, in input order. */
  ids: string[];
  /**
   * Stored sessions that this call's events bridged: events arrived between two sessions
   * already stored, within the timeout of both, so in event-time order they would have been
   * one session. Stored sessions are never merged (their events are in the store), so each
   * event joins the nearest of them; this counts the sessions beyond the first of each such
   * group. Arrival in event-time order, either way round, never bridges.
   */
  bridged: number;
}

/**
 * Assigns sessions as if every event had arrived in event-time order: a device's events and
 * its stored sessions (`state`) that lie within `gapMs` of each other, directly or through a
 * chain of this call's events, are one session. So events of one batch that bridge a stored
 * session and a session new in the batch all join the stored one, and a batch of history sent
 * newest first extends each session backwards exactly as live traffic would have extended it
 * forwards. A group holding no stored session is new, named after its first event (so a retry
 * gets the same ids). `state` is updated in place.
 */
export function assignSessions(candidates: SessionCandidate[], state: Map<string, SessionState[]>, gapMs: number): Assignment {
  const ids: string[] = new Array(candidates.length);
  let bridged = 0;
  const byDevice = new Map<string, number[]>();
  candidates.forEach((c, i) => {
    const k = key(c.account, c.device);
    const list = byDevice.get(k);
    if (list) list.push(i);
    else byDevice.set(k, [i]);
  });
  for (const [k, indexes] of byDevice) {
    const { account, device } = candidates[indexes[0]!]!;
    const stored = state.get(k) ?? [];
    const events = indexes.sort((a, b) => candidates[a]!.at - candidates[b]!.at || a - b);
    // Union-find over the device's events (0..n-1) and stored sessions (n..n+m-1).
    const n = events.length;
    const parent = Array.from({ length: n + stored.length }, (_, i) => i);
    const find = (i: number): number => {
      while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
      return i;
    };
    const union = (a: number, b: number) => {
      parent[find(a)] = find(b);
    };
    for (let e = 0; e < n; e++) {
      const at = candidates[events[e]!]!.at;
      if (e > 0 && at - candidates[events[e - 1]!]!.at <= gapMs) union(e, e - 1);
      stored.forEach((s, j) => {
        if (distance(s, at) <= gapMs) union(e, n + j);
      });
    }
    // Each group of events: its stored sessions, or a new one.
    const groups = new Map<number, { events: number[]; sessions: SessionState[] }>();
    for (let e = 0; e < n; e++) {
      const root = find(e);
      const g = groups.get(root) ?? { events: [], sessions: [] };
      g.events.push(e);
      groups.set(root, g);
    }
    stored.forEach((s, j) => groups.get(find(n + j))?.sessions.push(s));
    for (const g of groups.values()) {
      if (g.sessions.length === 0) {
        const first = candidates[events[g.events[0]!]!]!.at;
        const s = { id: sessionId(account, device, first), start: first, last: first };
        stored.push(s);
        g.sessions.push(s);
      }
      bridged += g.sessions.length - 1;
      for (const e of g.events) {
        const i = events[e]!;
        const at = candidates[i]!.at;
        // One session, or (bridged) the nearest; the earlier one on a tie.
        const s = g.sessions.reduce((best, x) => (distance(x, at) < distance(best, at) || (distance(x, at) === distance(best, at) && x.start < best.start) ? x : best));
        s.start = Math.min(s.start, at);
        s.last = Math.max(s.last, at);
        ids[i] = s.id;
      }
    }
    state.set(k, stored);
  }
  return { ids, bridged };
}

/** How far an event time lies outside a session (0 inside it). */
const distance = (s: SessionState, at: number) => (at < s.start ? s.start - at : at > s.last ? at - s.last : 0);

interface Row {
  account_id: string;
  session_id: string;
  anonymous_id: string;
  timestamp: string;
}

const EMPTY_SESSION = '"session_id":""';
const NO_DEVICE = '"anonymous_id":""';
const parseTime = (t: string) => Date.parse(`${t.replace(' ', 'T')}Z`);

/**
 * Gives events that came without a session id their device's session, on the writer before the
 * insert. The state lives in the events store (`device_sessions_by_day`), not in memory, so any writer
 * continues any device's session, and a restart loses nothing.
 */
@Injectable()
export class SessionAssigner {
  private readonly logger = new Logger('sessions');
  private readonly gapMs: number;
  /** Stored sessions bridged by late events since start (see `Assignment.bridged`). */
  private bridged = 0;

  constructor(
    @Inject(EVENTS_STORE) private readonly store: EventsStore,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.gapMs = config.sessionTimeoutMinutes * 60_000;
  }

  /**
   * The rows with sessions assigned, and `commit`, which records the devices' new state; call it
   * once the rows are stored.
   */
  async assign(rows: Buffer): Promise<{ rows: Buffer; commit: () => Promise<void> }> {
    const none = { rows, commit: async () => undefined };
    if (rows.length === 0 || !rows.includes(EMPTY_SESSION)) return none;
    const lines = rows.toString('utf8').split('\n').filter((l) => l.length > 0);
    const targets: { line: number; row: Row; device: string }[] = [];
    for (const [i, line] of lines.entries()) {
      // Only rows without a session but with a device are parsed (the writer's hot path).
      if (!line.includes(EMPTY_SESSION) || line.includes(NO_DEVICE)) continue;
      const row = JSON.parse(line) as Row;
      // The device is the anonymous id (the track API always sets one); events of a known user
      // alone, without a device, keep no session, as the Events API stores what it is sent.
      const device = row.anonymous_id;
      if (row.session_id === '' && device) targets.push({ line: i, row, device });
    }
    if (targets.length === 0) return none;
    const candidates = targets.map((t) => ({ account: t.row.account_id, device: t.device, at: parseTime(t.row.timestamp) }));
    const state = await this.load(candidates);
    const { ids, bridged } = assignSessions(candidates, state, this.gapMs);
    if (bridged > 0) {
      this.bridged += bridged;
      this.logger.warn({ bridged, total: this.bridged }, 'late events fell between stored sessions of a device, which stay apart');
    }
    const touched = new Map<string, { account: string; device: string; s: SessionState }>();
    targets.forEach((t, i) => {
      t.row.session_id = ids[i]!;
      lines[t.line] = JSON.stringify(t.row);
      const s = state.get(key(t.row.account_id, t.device))!.find((x) => x.id === ids[i])!;
      touched.set(`${key(t.row.account_id, t.device)}\u0000${s.id}`, { account: t.row.account_id, device: t.device, s });
    });
    return {
      rows: Buffer.from(`${lines.join('\n')}\n`),
      commit: () => this.save([...touched.values()]),
    };
  }

  /** Counters for /ready. */
  stats(): { sessionsBridged: number } {
    return { sessionsBridged: this.bridged };
  }

  /**
   * The stored sessions of the candidates' devices that can take one of their events: those
   * within the timeout of the chunk's time span. Each save holds a session's whole state, so
   * filtering rows (not sessions) by time keeps every session that matters with its true start
   * and last event, and lets the day-sorted key skip the rest of the retention's state: live
   * traffic reads today's rows.
   */
  private async load(candidates: SessionCandidate[]): Promise<Map<string, SessionState[]>> {
    const unique = [...new Map(candidates.map((c) => [key(c.account, c.device), c])).values()];
    const state = new Map<string, SessionState[]>();
    for (let i = 0; i < unique.length; i += 1000) {
      const chunk = unique.slice(i, i + 1000);
      const wanted = new Set(chunk.map((c) => key(c.account, c.device)));
      let from = Infinity;
      let to = -Infinity;
      for (const c of candidates) {
        if (!wanted.has(key(c.account, c.device))) continue;
        from = Math.min(from, c.at);
        to = Math.max(to, c.at);
      }
      const rows = await this.store.query<{ a: string; d: string; id: string; start: number; last: number }>(
        `SELECT account_id AS a, device_id AS d, session_id AS id,
           toUnixTimestamp64Milli(min(session_start)) AS start, toUnixTimestamp64Milli(max(last_seen)) AS last
         FROM ${DEVICE_SESSIONS_TABLE}
         WHERE account_id IN {accounts:Array(String)} AND last_seen >= {from:DateTime64(3)}
           AND session_start <= {to:DateTime64(3)} AND device_id IN {devices:Array(String)}
         GROUP BY account_id, device_id, session_id`,
        {
          accounts: [...new Set(chunk.map((c) => c.account))],
          devices: [...new Set(chunk.map((c) => c.device))],
          from: toClickHouseTime(from - this.gapMs),
          to: toClickHouseTime(to + this.gapMs),
        },
      );
      for (const r of rows) {
        const k = key(r.a, r.d);
        if (wanted.has(k)) state.set(k, [...(state.get(k) ?? []), { id: r.id, start: Number(r.start), last: Number(r.last) }]);
      }
    }
    return state;
  }

  private async save(devices: { account: string; device: string; s: SessionState }[]): Promise<void> {
    const lines = devices.map(({ account, device, s }) =>
      JSON.stringify({
        account_id: account,
        device_id: device,
        session_id: s.id,
        session_start: toClickHouseTime(s.start),
        last_seen: toClickHouseTime(s.last),
      }),
    );
    if (lines.length > 0) await this.store.insertJsonEachRow(DEVICE_SESSIONS_TABLE, Buffer.from(`${lines.join('\n')}\n`));
  }
}
