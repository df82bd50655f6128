import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { LIVE_BATCH_CHANNEL, LIVE_LISTENERS_CHANNEL, type LiveBatchMessage, type LiveEvent } from '../events/index.js';
import { EVENTS_STORE, type EventsStore } from '../infrastructure/clickhouse/events-store.port.js';
import { bindInstant, ParamBag, USER_KEY } from '../infrastructure/clickhouse/query/query-kit.js';
import { PUBSUB, type PubSub, type Unsubscribe } from '../infrastructure/pubsub/pubsub.port.js';
import { InsightsService } from '../insights/index.js';
import { MetricsService } from '../metrics/index.js';
import { parseClientMessage } from './client-message.js';
import { EventsGroup } from './events-group.js';
import { LiveConnection, matches, type SocketLike, type Subscription } from './live-connection.js';
import { type CountersData, type MetricData, PROTOCOL_VERSION, type ServerMessage } from './live-protocol.js';

/** Largest client message (bytes); the socket's own limit closes a larger one with 1009. */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;
const MAX_SUBSCRIPTIONS = 20;
/** Recent events kept per account for an `events` snapshot. */
const RECENT_EVENTS = 50;
/** Active users, sessions and live visitors are read from the store this often (not every second). */
const ACTIVITY_REFRESH_MS = 5000;
/** Gateways re-announce the accounts they watch this often; an announcement holds for three times it. */
const ANNOUNCE_MS = 10_000;

interface AccountLive {
  connections: Set<LiveConnection>;
  /** The account's events subscriptions, grouped by what they asked for. */
  groups: Map<string, EventsGroup>;
  recent: LiveEvent[];
  /** This second's tally, and the last complete second's. */
  second: { start: number; count: number; byName: Map<string, number> };
  counters: CountersData | null;
  activity: { at: number; users: number; sessions: number; visitors: number; loading: boolean };
}

/**
 * The live side of one replica: its sockets by account, the live bus (every replica gets every
 * watched account's events), and the topics. Each is computed once per account and tick on this
 * replica, whatever the number of sockets: counters every second (events per second and by name
 * from the bus; active users, sessions and live visitors from the store every 5 s), a custom
 * metric every LIVE_METRIC_INTERVAL for all its subscribers; events are filtered and sampled per
 * subscription as they arrive.
 */
@Injectable()
export class LiveHub implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('realtime');
  private readonly accounts = new Map<string, AccountLive>();
  private readonly metrics_ = new Map<string, { at: number; data: Promise<MetricData> }>();
  private unsubscribeBus: Unsubscribe | null = null;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    @Inject(PUBSUB) private readonly pubsub: PubSub,
    @Inject(EVENTS_STORE) private readonly store: EventsStore,
    private readonly metrics: MetricsService,
    private readonly insights: InsightsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.unsubscribeBus = this.pubsub.subscribe(LIVE_BATCH_CHANNEL, (m) => this.onBatch(m));
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(1000, () => this.tickCounters());
    every(this.config.live.metricIntervalMs, () => void this.tickMetrics());
    every(ANNOUNCE_MS, () => this.announceAll());
    every(this.config.live.heartbeatMs, () => this.heartbeat());
  }

  onModuleDestroy(): void {
    this.unsubscribeBus?.();
    for (const t of this.timers) clearInterval(t);
    for (const a of this.accounts.values()) for (const c of a.connections) c.close();
  }

  get limits() {
    return { maxMessageBytes: MAX_CLIENT_MESSAGE_BYTES, maxMessagesPerSecond: this.config.live.maxMessagesPerSecond, queue: this.config.live.queueMessages };
  }

  /** A socket that passed authentication joins its account. */
  connect(socket: SocketLike, accountId: string): LiveConnection {
    const conn = new LiveConnection(socket, accountId, { maxMessagesPerSecond: this.config.live.maxMessagesPerSecond, queue: this.config.live.queueMessages });
    let account = this.accounts.get(accountId);
    if (!account) {
      const now = Date.now();
      account = {
        connections: new Set(),
        groups: new Map(),
        recent: [],
        second: { start: now - (now % 1000), count: 0, byName: new Map() },
        counters: null,
        activity: { at: 0, users: 0, sessions: 0, visitors: 0, loading: false },
      };
      this.accounts.set(accountId, account);
      this.announce(accountId);
    }
    account.connections.add(conn);
    conn.push({ type: 'ready', accountId, protocol: PROTOCOL_VERSION, limits: this.limits });
    return conn;
  }

  disconnect(conn: LiveConnection): void {
    conn.close();
    const account = this.accounts.get(conn.accountId);
    if (!account) return;
    for (const id of [...conn.subscriptions.keys()]) this.unsubscribe(conn, id);
    account.connections.delete(conn);
    if (account.connections.size === 0) {
      for (const g of account.groups.values()) g.close();
      this.accounts.delete(conn.accountId);
    }
  }

  /** Removes a subscription (from its events group too); false when there is none of that id. */
  private unsubscribe(conn: LiveConnection, id: string): boolean {
    const sub = conn.subscriptions.get(id);
    if (!sub) return false;
    conn.subscriptions.delete(id);
    if (sub.topic === 'events') {
      const account = this.accounts.get(conn.accountId);
      const key = EventsGroup.key(sub.filter, sub.maxPerSecond);
      const group = account?.groups.get(key);
      if (group) {
        for (const m of group.members) if (m.conn === conn && m.id === id) group.members.delete(m);
        if (group.members.size === 0) {
          group.close();
          account!.groups.delete(key);
        }
      }
    }
    return true;
  }

  /** Sockets open on this replica (for the bench and readiness). */
  get sockets(): number {
    let n = 0;
    for (const a of this.accounts.values()) n += a.connections.size;
    return n;
  }

  async onMessage(conn: LiveConnection, raw: string): Promise<void> {
    const parsed = parseClientMessage(raw);
    if (!parsed.ok) return conn.push({ type: 'error', code: parsed.code, message: parsed.message, ...(parsed.subscription ? { subscription: parsed.subscription } : {}) });
    const m = parsed.message;
    if (m.type === 'ping') return conn.push({ type: 'pong' });
    if (m.type === 'unsubscribe') {
      if (!this.unsubscribe(conn, m.id)) return conn.push({ type: 'error', code: 'not_subscribed', message: `no subscription "${m.id}"`, subscription: m.id });
      return conn.push({ type: 'unsubscribed', subscription: m.id });
    }
    if (!conn.subscriptions.has(m.id) && conn.subscriptions.size >= MAX_SUBSCRIPTIONS) {
      return conn.push({ type: 'error', code: 'too_many_subscriptions', message: `at most ${MAX_SUBSCRIPTIONS} subscriptions per socket`, subscription: m.id });
    }
    await this.subscribe(conn, m.topic === 'events' ? { id: m.id, topic: 'events', filter: m.filter ?? {}, maxPerSecond: m.maxPerSecond ?? 100, budget: { tokens: m.maxPerSecond ?? 100, at: Date.now(), unsent: 0 } } : m.topic === 'counters' ? { id: m.id, topic: 'counters', top: m.top ?? 10 } : { id: m.id, topic: 'metric', metricId: m.metricId, points: m.points ?? 30 });
  }

  /** Adds a subscription (replacing one of the same id) and sends its snapshot. */
  async subscribe(conn: LiveConnection, sub: Subscription): Promise<boolean> {
    const account = this.accounts.get(conn.accountId);
    if (!account) return false;
    if (sub.topic === 'metric') {
      // Checked before it is added: another account's metric, or none, is an error, not a subscription.
      let data: MetricData;
      try {
        data = await this.metric(conn.accountId, sub.metricId, sub.points, true);
      } catch (err) {
        const notFound = err instanceof ApiError && err.status === 404;
        conn.push({ type: 'error', code: notFound ? 'not_found' : 'metric_failed', message: notFound ? `no metric ${sub.metricId} in this account` : 'the metric could not be computed', subscription: sub.id });
        return false;
      }
      this.unsubscribe(conn, sub.id);
      conn.subscriptions.set(sub.id, sub);
      conn.push({ type: 'subscribed', subscription: sub.id, topic: 'metric' });
      conn.push({ type: 'metric', subscription: sub.id, snapshot: true, ...slicePoints(data, sub.points) });
      return true;
    }
    this.unsubscribe(conn, sub.id); // a subscription of the same name is replaced
    conn.subscriptions.set(sub.id, sub);
    conn.push({ type: 'subscribed', subscription: sub.id, topic: sub.topic });
    if (sub.topic === 'events') {
      const key = EventsGroup.key(sub.filter, sub.maxPerSecond);
      let group = account.groups.get(key);
      if (!group) account.groups.set(key, (group = new EventsGroup(sub.filter, sub.maxPerSecond, 1000 / this.config.live.maxMessagesPerSecond)));
      group.members.add({ conn, id: sub.id });
      const recent = account.recent.filter((e) => matches(sub.filter, e)).slice(-sub.maxPerSecond);
      conn.push({ type: 'events', subscription: sub.id, snapshot: true, sampleRate: 1, matched: recent.length, events: recent });
    } else {
      this.refreshActivity(conn.accountId, account);
      conn.push({ type: 'counters', subscription: sub.id, snapshot: true, ...topOf(account.counters ?? this.counters(account, Date.now()), sub.top) });
    }
    return true;
  }

  private onBatch(m: LiveBatchMessage): void {
    const account = this.accounts.get(m.accountId);
    if (!account) return;
    const now = Date.now();
    this.roll(account, now);
    account.second.count += m.events.length;
    for (const e of m.events) account.second.byName.set(e.eventName, (account.second.byName.get(e.eventName) ?? 0) + 1);
    account.recent.push(...m.events);
    if (account.recent.length > RECENT_EVENTS) account.recent.splice(0, account.recent.length - RECENT_EVENTS);
    for (const group of account.groups.values()) group.offer(m.events, now);
  }

  /** Starts a new second's tally, keeping the last complete one as the counters. */
  private roll(account: AccountLive, now: number): void {
    const start = now - (now % 1000);
    if (start === account.second.start) return;
    const complete = start - account.second.start === 1000 ? account.second : { start: start - 1000, count: 0, byName: new Map<string, number>() };
    account.counters = this.counters(account, complete.start, complete);
    account.second = { start, count: 0, byName: new Map() };
  }

  private counters(account: AccountLive, at: number, second = account.second): CountersData {
    return {
      at: new Date(at).toISOString(),
      eventsPerSecond: second.count,
      byName: [...second.byName].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 50).map(([name, count]) => ({ name, count })),
      activeUsers: account.activity.users,
      activeSessions: account.activity.sessions,
      liveVisitors: account.activity.visitors,
    };
  }

  /** Every second: each account's counters, computed once, to its counters subscriptions. */
  private tickCounters(): void {
    const now = Date.now();
    for (const [accountId, account] of this.accounts) {
      let watched = false;
      for (const c of account.connections) for (const s of c.subscriptions.values()) if (s.topic === 'counters') watched = true;
      if (!watched) continue;
      this.roll(account, now);
      this.refreshActivity(accountId, account);
      const counters = account.counters ?? this.counters(account, now - (now % 1000) - 1000, { start: 0, count: 0, byName: new Map() });
      for (const conn of account.connections) {
        for (const sub of conn.subscriptions.values()) {
          if (sub.topic === 'counters') conn.push({ type: 'counters', subscription: sub.id, snapshot: false, ...topOf(counters, sub.top) });
        }
      }
    }
  }

  /** Active users and sessions in the last 5 minutes, and live visitors, read now and then (not per socket, not per second). */
  private refreshActivity(accountId: string, account: AccountLive): void {
    const now = Date.now();
    if (account.activity.loading || now - account.activity.at < ACTIVITY_REFRESH_MS) return;
    account.activity.loading = true;
    const bag = new ParamBag();
    const sql = `SELECT uniqExact(${USER_KEY}) - (countIf(${USER_KEY} = '') > 0) AS users, uniqExactIf(session_id, session_id != '') AS sessions
FROM events PREWHERE account_id = ${bag.bind(accountId, 'String')} AND timestamp >= ${bindInstant(bag, now - 5 * 60_000)} AND is_bot = 0`;
    Promise.all([this.store.query<{ users: number; sessions: number }>(sql, bag.params), this.insights.live(accountId, now)])
      .then(([rows, live]) => {
        account.activity = { at: now, users: Number(rows[0]?.users ?? 0), sessions: Number(rows[0]?.sessions ?? 0), visitors: live.visitors, loading: false };
        if (account.counters) Object.assign(account.counters, { activeUsers: account.activity.users, activeSessions: account.activity.sessions, liveVisitors: account.activity.visitors });
      })
      .catch((err: unknown) => {
        account.activity.loading = false;
        account.activity.at = now;
        this.logger.warn({ err: err instanceof Error ? err.message : String(err), account: accountId }, 'live activity query failed');
      });
  }

  /** Every LIVE_METRIC_INTERVAL: each subscribed metric computed once, to all its subscriptions. */
  private async tickMetrics(): Promise<void> {
    const wanted = new Map<string, { accountId: string; metricId: string; points: number; subs: [LiveConnection, Extract<Subscription, { topic: 'metric' }>][] }>();
    for (const [accountId, account] of this.accounts) {
      for (const conn of account.connections) {
        for (const sub of conn.subscriptions.values()) {
          if (sub.topic !== 'metric') continue;
          const key = `${accountId}|${sub.metricId}`;
          let w = wanted.get(key);
          if (!w) wanted.set(key, (w = { accountId, metricId: sub.metricId, points: 0, subs: [] }));
          w.points = Math.max(w.points, sub.points);
          w.subs.push([conn, sub]);
        }
      }
    }
    for (const w of wanted.values()) {
      try {
        const data = await this.metric(w.accountId, w.metricId, w.points, false);
        for (const [conn, sub] of w.subs) conn.push({ type: 'metric', subscription: sub.id, snapshot: false, ...slicePoints(data, sub.points) });
      } catch (err) {
        const gone = err instanceof ApiError && err.status === 404;
        for (const [conn, sub] of w.subs) {
          if (gone) conn.subscriptions.delete(sub.id);
          conn.push({ type: 'error', code: gone ? 'not_found' : 'metric_failed', message: gone ? `metric ${w.metricId} was deleted` : 'the metric could not be computed this time', subscription: sub.id });
        }
      }
    }
  }

  /** A metric's latest minute points, shared by concurrent callers; `fresh` reuses one computed within the interval. */
  async metric(accountId: string, metricId: string, points: number, fresh: boolean): Promise<MetricData> {
    const key = `${accountId}|${metricId}|${points}`;
    const cached = this.metrics_.get(key);
    if (cached && fresh && Date.now() - cached.at < this.config.live.metricIntervalMs) return cached.data;
    const now = Date.now();
    const to = now - (now % 60_000) + 60_000;
    const data = Promise.all([
      this.metrics.get(accountId, metricId),
      this.metrics.data(accountId, metricId, { from: to - points * 60_000, to, interval: 'minute', timezone: 'UTC', groupBy: [], other: false, fill: true }),
    ]).then(([metric, d]): MetricData => {
      const series = d.series[0]?.points ?? [];
      return {
        metricId,
        name: metric.name,
        ...(metric.unit ? { unit: metric.unit } : {}),
        value: series.at(-1)?.value ?? null,
        points: series,
        at: new Date(now).toISOString(),
      };
    });
    this.metrics_.set(key, { at: now, data });
    data.catch(() => this.metrics_.delete(key));
    if (this.metrics_.size > 1000) this.metrics_.delete(this.metrics_.keys().next().value!);
    return data;
  }

  private announce(accountId: string): void {
    void this.pubsub.publish(LIVE_LISTENERS_CHANNEL, { accountId, until: Date.now() + 3 * ANNOUNCE_MS }).catch(() => undefined);
  }

  private announceAll(): void {
    for (const accountId of this.accounts.keys()) this.announce(accountId);
  }

  /** Heartbeat (every LIVE_HEARTBEAT): a socket that did not answer the last ping is ended; the others are pinged. */
  heartbeat(): void {
    for (const account of [...this.accounts.values()]) {
      for (const conn of [...account.connections]) {
        if (!conn.alive) {
          conn.socket.terminate();
          this.disconnect(conn);
          continue;
        }
        conn.alive = false;
        conn.socket.ping();
      }
    }
  }
}

function topOf(c: CountersData, top: number): CountersData {
  return { ...c, byName: c.byName.slice(0, top) };
}

function slicePoints(d: MetricData, points: number): MetricData {
  return { ...d, points: d.points.slice(-points) };
}

export type { ServerMessage };
