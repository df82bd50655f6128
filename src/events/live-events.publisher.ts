import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PUBSUB, type PubSub, type Unsubscribe } from '../infrastructure/pubsub/pubsub.port.js';
import type { EventRow } from './event.types.js';
import { LIVE_BATCH_CHANNEL, LIVE_LISTENERS_CHANNEL, type LiveEvent } from './live-events.types.js';

/**
 * Publishes each request's acknowledged events on the live bus right after the ack, for the
 * accounts a live socket watches on some replica (gateways announce them on `live.listeners`),
 * so an account nobody watches costs nothing and a watched one reaches its dashboards in
 * milliseconds. Live fan-out is best effort (Redis pub/sub is at-most-once); the events are
 * stored whatever happens here.
 */
@Injectable()
export class LiveEventsPublisher implements OnModuleInit, OnModuleDestroy {
  private readonly watched = new Map<string, number>();
  private unsubscribe: Unsubscribe | null = null;

  constructor(@Inject(PUBSUB) private readonly pubsub: PubSub) {}

  onModuleInit(): void {
    this.unsubscribe = this.pubsub.subscribe(LIVE_LISTENERS_CHANNEL, (m) => {
      if ((this.watched.get(m.accountId) ?? 0) < m.until) this.watched.set(m.accountId, m.until);
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** Whether a live socket watches the account (on any replica). */
  watches(accountId: string, now = Date.now()): boolean {
    const until = this.watched.get(accountId);
    if (until === undefined) return false;
    if (until >= now) return true;
    this.watched.delete(accountId);
    return false;
  }

  /** One request's acknowledged rows. */
  record(accountId: string, rows: EventRow[]): void {
    if (rows.length === 0 || !this.watches(accountId)) return;
    const receivedAt = Date.now();
    const events: LiveEvent[] = rows.map((r) => ({
      eventId: r.event_id,
      eventType: r.event_type,
      eventName: r.event_name,
      timestamp: `${r.timestamp.replace(' ', 'T')}Z`,
      ...(r.user_id ? { userId: r.user_id } : {}),
      ...(r.anonymous_id ? { anonymousId: r.anonymous_id } : {}),
      ...(r.session_id ? { sessionId: r.session_id } : {}),
      properties: parseProperties(r.properties),
      receivedAt,
    }));
    void this.pubsub.publish(LIVE_BATCH_CHANNEL, { accountId, events }).catch(() => undefined);
  }
}

function parseProperties(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
