import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { toClickHouseTime } from '../events/event-row.js';
import { EVENTS_STORE, type EventsStore } from '../infrastructure/clickhouse/events-store.port.js';
import { DEVICE_SESSIONS_TABLE } from './session-tables.js';

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

/**
 * Assigns sessions in event-time order: an event within `gapMs` of one of its device's sessions
 * (after its last event or before its first) joins the nearest such session; otherwise it starts
 * a new one. Known sessions come in `state` (per device), so an event that arrives late, in a
 * later batch, still joins the session it belongs to. `state` is updated in place; returns the id
 * of each candidate, in input order.
 */
export function assignSessions(candidates: SessionCandidate[], state: Map<string, SessionState[]>, gapMs: number): string[] {
  const ids: string[] = new Array(candidates.length);
  const order = candidates.map((_, i) => i).sort((a, b) => candidates[a]!.at - candidates[b]!.at);
  const distance = (s: SessionState, at: number) => (at < s.start ? s.start - at : at > s.last ? at - s.last : 0);
  for (const i of order) {
    const c = candidates[i]!;
    const k = key(c.account, c.device);
    const sessions = state.get(k) ?? [];
    let s = sessions.filter((x) => distance(x, c.at) <= gapMs).sort((a, b) => distance(a, c.at) - distance(b, c.at))[0];
    if (!s) {
      s = { id: sessionId(c.account, c.device, c.at), start: c.at, last: c.at };
      sessions.push(s);
      state.set(k, sessions);
    }
    s.last = Math.max(s.last, c.at);
    s.start = Math.min(s.start, c.at);
    ids[i] = s.id;
  }
  return ids;
}

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
 * insert. The state lives in the events store (`device_sessions`), not in memory, so any writer
 * continues any device's session, and a restart loses nothing.
 */
@Injectable()
export class SessionAssigner {
  private readonly gapMs: number;

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
    const state = await this.load(targets.map((t) => [t.row.account_id, t.device] as [string, string]));
    const ids = assignSessions(
      targets.map((t) => ({ account: t.row.account_id, device: t.device, at: parseTime(t.row.timestamp) })),
      state,
      this.gapMs,
    );
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

  private async load(devices: [string, string][]): Promise<Map<string, SessionState[]>> {
    const unique = [...new Map(devices.map((d) => [key(...d), d])).values()];
    const state = new Map<string, SessionState[]>();
    for (let i = 0; i < unique.length; i += 1000) {
      const chunk = unique.slice(i, i + 1000);
      const rows = await this.store.query<{ a: string; d: string; id: string; start: number; last: number }>(
        `SELECT account_id AS a, device_id AS d, session_id AS id,
           toUnixTimestamp64Milli(min(session_start)) AS start, toUnixTimestamp64Milli(max(last_seen)) AS last
         FROM ${DEVICE_SESSIONS_TABLE}
         WHERE account_id IN {accounts:Array(String)} AND device_id IN {devices:Array(String)}
         GROUP BY account_id, device_id, session_id`,
        { accounts: [...new Set(chunk.map(([a]) => a))], devices: [...new Set(chunk.map(([, d]) => d))] },
      );
      const wanted = new Set(chunk.map((d) => key(...d)));
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
