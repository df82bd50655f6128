import type { LiveEvent } from '../events/index.js';
import { type LiveConnection, sampleFor, type Subscription } from './live-connection.js';
import type { EventsFilter } from './live-protocol.js';

/** The subscriptions an events group serves: which socket, under which of its names. */
interface Member {
  conn: LiveConnection;
  id: string;
}

/**
 * The `events` subscriptions of one account that asked for the same thing (the same filter and
 * maxPerSecond): dashboards mostly do. The group samples each batch once, gathers what it sends
 * for at most LIVE_MAX_MESSAGES_PER_SECOND flushes a second, and serializes each flush once:
 * every member's message is that text behind its own subscription name. So a thousand watching
 * sockets cost one filter, one sample and one JSON per flush, not a thousand of each. The first
 * batch after a quiet spell goes out at once; under a steady stream, every flush interval.
 */
export class EventsGroup {
  readonly members = new Set<Member>();
  private readonly sampler: Extract<Subscription, { topic: 'events' }>;
  private pending: { events: LiveEvent[]; matched: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = 0;

  constructor(
    filter: EventsFilter,
    maxPerSecond: number,
    private readonly intervalMs: number,
    now = Date.now(),
  ) {
    this.sampler = { id: '', topic: 'events', filter, maxPerSecond, budget: { tokens: maxPerSecond, at: now, unsent: 0 } };
  }

  static key(filter: EventsFilter, maxPerSecond: number): string {
    return JSON.stringify([filter.eventType ?? null, filter.eventName ?? null, filter.properties ? Object.entries(filter.properties).sort() : null, maxPerSecond]);
  }

  offer(events: LiveEvent[], now = Date.now()): void {
    const sample = sampleFor(this.sampler, events, now);
    if (!sample || sample.type !== 'events') return;
    if (this.pending) {
      this.pending = { events: this.pending.events.concat(sample.events), matched: this.pending.matched + sample.matched };
    } else {
      this.pending = { events: sample.events, matched: sample.matched };
    }
    if (this.timer) return;
    const wait = this.lastFlush + this.intervalMs - now;
    if (wait <= 0) this.flush(now);
    else {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush(Date.now());
      }, wait);
      this.timer.unref();
    }
  }

  private flush(now: number): void {
    const p = this.pending;
    this.pending = null;
    if (!p || this.members.size === 0) return;
    this.lastFlush = now;
    const tail = `,"snapshot":false,"sampleRate":${p.events.length / p.matched},"matched":${p.matched},"events":${JSON.stringify(p.events)}}`;
    for (const m of this.members) m.conn.pushRaw(`{"type":"events","subscription":${JSON.stringify(m.id)}${tail}`);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }
}
