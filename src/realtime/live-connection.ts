import type { LiveEvent } from '../events/index.js';
import type { EventsFilter, ServerMessage } from './live-protocol.js';

/** The part of a `ws` WebSocket a connection uses (tests pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string, cb?: (err?: Error) => void): void;
  ping(): void;
  terminate(): void;
}

const OPEN = 1;
/** Bytes waiting in the socket's send buffer above which the client counts as not keeping up. */
const CONGESTED_BYTES = 1024 * 1024;
/** How often a congested socket is looked at again. */
const CONGESTED_RETRY_MS = 50;

export interface ConnectionLimits {
  /** Messages per second at most (a token bucket of this size, refilled at this rate). */
  maxMessagesPerSecond: number;
  /** Messages held while the socket cannot take more; beyond it the oldest are dropped. */
  queue: number;
}

export type Subscription =
  | {
      id: string;
      topic: 'events';
      filter: EventsFilter;
      maxPerSecond: number;
      /** A token bucket of events (up to a second's worth), refilled continuously; `unsent` matched since the last message. */
      budget: { tokens: number; at: number; unsent: number };
    }
  | { id: string; topic: 'counters'; top: number }
  | { id: string; topic: 'metric'; metricId: string; points: number };

/**
 * One live socket: its subscriptions, and how messages reach it. A message goes out at once
 * while the socket has budget (LIVE_MAX_MESSAGES_PER_SECOND, as a token bucket) and keeps up;
 * otherwise it waits in a bounded queue where updates coalesce: a subscription's waiting events
 * merge into one message, a newer counters or metric update replaces the waiting one. When the
 * queue is full the oldest message goes, and the socket is told how many it missed (`dropped`).
 * So a slow client costs memory up to its queue and never slows the others.
 */
/** A message as queued: one to serialize, or one already serialized (an events group's flush). */
type Queued = ServerMessage | { raw: string };

export class LiveConnection {
  readonly subscriptions = new Map<string, Subscription>();
  private readonly queue: Queued[] = [];
  private dropped = 0;
  private tokens: number;
  private refilledAt: number;
  private timer: NodeJS.Timeout | null = null;
  closed = false;
  /** For the heartbeat: a pong came since the last ping. */
  alive = true;

  constructor(
    readonly socket: SocketLike,
    readonly accountId: string,
    private readonly limits: ConnectionLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = limits.maxMessagesPerSecond;
    this.refilledAt = now();
  }

  /** Queues a message and sends what the budget allows. */
  push(message: ServerMessage): void {
    if (this.closed) return;
    if (!this.coalesce(message)) this.enqueue(message);
    this.flush();
  }

  /** Queues a message serialized already (the same text goes to many sockets). */
  pushRaw(raw: string): void {
    if (this.closed) return;
    this.enqueue({ raw });
    this.flush();
  }

  private enqueue(message: Queued): void {
    this.queue.push(message);
    while (this.queue.length > this.limits.queue) {
      this.queue.shift();
      this.dropped++;
    }
  }

  /** Messages waiting (for tests and the bench). */
  get waiting(): number {
    return this.queue.length;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
  }

  /** Merges into a waiting message of the same subscription, when one is there. */
  private coalesce(message: ServerMessage): boolean {
    if (message.type !== 'events' && message.type !== 'counters' && message.type !== 'metric') return false;
    const i = this.queue.findIndex((m) => 'type' in m && m.type === message.type && 'subscription' in m && m.subscription === message.subscription);
    if (i < 0) return false;
    const waiting = this.queue[i] as ServerMessage;
    if (message.type === 'events' && waiting.type === 'events') {
      const events = waiting.events.concat(message.events);
      const matched = waiting.matched + message.matched;
      this.queue[i] = { ...waiting, events, matched, sampleRate: matched === 0 ? 1 : events.length / matched };
    } else {
      // A newer counters or metric state replaces the waiting one (a snapshot stays a snapshot).
      this.queue[i] = { ...message, snapshot: (waiting as { snapshot: boolean }).snapshot || (message as { snapshot: boolean }).snapshot } as ServerMessage;
    }
    return true;
  }

  private refill(): void {
    const now = this.now();
    const rate = this.limits.maxMessagesPerSecond;
    this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) * rate) / 1000);
    this.refilledAt = now;
  }

  private flush(): void {
    if (this.closed) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.socket.readyState !== OPEN) return;
    this.refill();
    while (this.queue.length > 0 && this.tokens >= 1 && this.socket.bufferedAmount < CONGESTED_BYTES) {
      if (this.dropped > 0) {
        this.write({ type: 'dropped', count: this.dropped });
        this.dropped = 0;
      }
      this.tokens -= 1;
      this.write(this.queue.shift()!);
    }
    if (this.queue.length === 0) return;
    const wait = this.socket.bufferedAmount >= CONGESTED_BYTES ? CONGESTED_RETRY_MS : Math.ceil(((1 - this.tokens) * 1000) / this.limits.maxMessagesPerSecond);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, Math.max(1, wait));
    this.timer.unref?.();
  }

  private write(message: Queued): void {
    this.socket.send('raw' in message ? message.raw : serialize(message), () => undefined);
  }
}

/**
 * The JSON of an events array, made once however many sockets send it: every subscription that
 * takes a whole batch shares the batch's array, so fan-out to many sockets serializes it once.
 */
const eventsJson = new WeakMap<LiveEvent[], string>();

function serialize(message: ServerMessage): string {
  if (message.type !== 'events') return JSON.stringify(message);
  let events = eventsJson.get(message.events);
  if (events === undefined) eventsJson.set(message.events, (events = JSON.stringify(message.events)));
  return `{"type":"events","subscription":${JSON.stringify(message.subscription)},"snapshot":${message.snapshot},"sampleRate":${message.sampleRate},"matched":${message.matched},"events":${events}}`;
}

const NO_FILTER = (f: EventsFilter) => f.eventType === undefined && f.eventName === undefined && f.properties === undefined;

/** Whether an event matches a subscription's filter (every given field equal). */
export function matches(filter: EventsFilter, e: LiveEvent): boolean {
  if (filter.eventType !== undefined && e.eventType !== filter.eventType) return false;
  if (filter.eventName !== undefined && e.eventName !== filter.eventName) return false;
  if (filter.properties) for (const [k, v] of Object.entries(filter.properties)) if (e.properties[k] !== v) return false;
  return true;
}

/**
 * The events of one batch an `events` subscription gets: all of them while it is within its
 * `maxPerSecond`, else an evenly spread sample of what its budget allows. The budget is a bucket
 * of up to a second's worth of events refilled continuously, so under a steady stream each batch
 * gets its share (the sample spreads over the second) rather than the first batches of every
 * second getting all of it. The message states the share sent (`sampleRate`) of what matched
 * since its previous message.
 */
export function sampleFor(sub: Extract<Subscription, { topic: 'events' }>, events: LiveEvent[], now: number): ServerMessage | null {
  // The batch's own array when all of it matches: its JSON is then made once for every socket.
  const filtered = NO_FILTER(sub.filter) ? events : events.filter((e) => matches(sub.filter, e));
  const matched = filtered.length === events.length ? events : filtered;
  if (matched.length === 0) return null;
  const b = sub.budget;
  b.tokens = Math.min(sub.maxPerSecond, b.tokens + ((now - b.at) * sub.maxPerSecond) / 1000);
  b.at = now;
  const room = Math.floor(b.tokens);
  let chosen = matched;
  if (matched.length > room) {
    chosen = [];
    for (let i = 0; i < room; i++) chosen.push(matched[Math.floor((i * matched.length) / room)]!);
  }
  if (chosen.length === 0) {
    b.unsent += matched.length;
    return null;
  }
  const total = matched.length + b.unsent;
  b.tokens -= chosen.length;
  b.unsent = 0;
  return { type: 'events', subscription: sub.id, snapshot: false, sampleRate: chosen.length / total, matched: total, events: chosen };
}
