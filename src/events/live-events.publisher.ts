import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PUBSUB, type PubSub } from '../infrastructure/pubsub/pubsub.port.js';

export const LIVE_EVENTS_CHANNEL = 'live.events';
const INTERVAL_MS = 1000;

/** What live dashboards receive each second per account: how many events arrived, by name. */
export interface LiveEventsMessage {
  accountId: string;
  /** Start of the interval, ISO 8601 */
  at: string;
  count: number;
  byName: Record<string, number>;
}

declare module '../infrastructure/pubsub/pubsub.port.js' {
  interface PubSubChannels {
    'live.events': LiveEventsMessage;
  }
}

/**
 * Sums acknowledged events per account and publishes one message per account per second on the
 * live bus (Redis pub/sub across replicas), so a dashboard connected to any replica sees traffic
 * that arrived at every replica, without a publish per request.
 */
@Injectable()
export class LiveEventsPublisher implements OnModuleInit, OnModuleDestroy {
  private pending = new Map<string, { count: number; byName: Map<string, number> }>();
  private startedAt = Date.now();
  private timer: NodeJS.Timeout | null = null;

  constructor(@Inject(PUBSUB) private readonly pubsub: PubSub) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.publish(), INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.publish();
  }

  /** Adds one request's acknowledged events (their names, in any order). */
  record(accountId: string, eventNames: string[]): void {
    let entry = this.pending.get(accountId);
    if (!entry) this.pending.set(accountId, (entry = { count: 0, byName: new Map() }));
    entry.count += eventNames.length;
    for (const name of eventNames) entry.byName.set(name, (entry.byName.get(name) ?? 0) + 1);
  }

  private async publish(): Promise<void> {
    if (this.pending.size === 0) {
      this.startedAt = Date.now();
      return;
    }
    const batch = this.pending;
    const at = new Date(this.startedAt).toISOString();
    this.pending = new Map();
    this.startedAt = Date.now();
    for (const [accountId, entry] of batch) {
      const message: LiveEventsMessage = { accountId, at, count: entry.count, byName: Object.fromEntries(entry.byName) };
      // Live fan-out is best effort (Redis pub/sub is at-most-once); the events are already stored.
      await this.pubsub.publish(LIVE_EVENTS_CHANNEL, message).catch(() => undefined);
    }
  }
}
