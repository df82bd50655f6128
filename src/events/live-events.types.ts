/**
 * The live bus between ingest and the live WebSocket gateways (Redis pub/sub across replicas):
 * acknowledged events of accounts someone watches, and who watches.
 */

/** An event as the live stream shows it. */
export interface LiveEvent {
  eventId: string;
  eventType: string;
  eventName: string;
  /** ISO 8601 */
  timestamp: string;
  userId?: string;
  anonymousId?: string;
  sessionId?: string;
  properties: Record<string, unknown>;
  /** When the service acknowledged it (epoch ms): what live latency is measured from. */
  receivedAt: number;
}

/** One request's acknowledged events, published right after the ack. */
export interface LiveBatchMessage {
  accountId: string;
  events: LiveEvent[];
}

/** A gateway has sockets watching this account until `until` (epoch ms); it says so again before then. */
export interface LiveListenersMessage {
  accountId: string;
  until: number;
}

export const LIVE_BATCH_CHANNEL = 'live.batch';
export const LIVE_LISTENERS_CHANNEL = 'live.listeners';

declare module '../infrastructure/pubsub/pubsub.port.js' {
  interface PubSubChannels {
    'live.batch': LiveBatchMessage;
    'live.listeners': LiveListenersMessage;
  }
}
