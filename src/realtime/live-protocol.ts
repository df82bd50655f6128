/**
 * The live protocol of `/ws/analytics` and `/ws/metrics/:id`: every message either side sends,
 * typed in this one place (the README documents the same). Messages are JSON objects with a
 * `type`. A client subscribes to topics; for each subscription it first gets a snapshot
 * (`snapshot: true`), then updates.
 */

export const PROTOCOL_VERSION = 1;

// ---- Client → server ------------------------------------------------------------------------

/** Only the events that match: every given field must be equal (properties by top-level key). */
export interface EventsFilter {
  eventType?: string;
  eventName?: string;
  properties?: Record<string, string | number | boolean>;
}

export type ClientMessage =
  | {
      type: 'subscribe';
      /** The client's name for the subscription (1–64 characters), echoed on every message of it. */
      id: string;
      topic: 'events';
      filter?: EventsFilter;
      /** Events per second the client wants at most (1–1000, default 100); above it, a sample. */
      maxPerSecond?: number;
    }
  | {
      type: 'subscribe';
      id: string;
      topic: 'counters';
      /** How many event names `byName` lists (1–50, default 10). */
      top?: number;
    }
  | {
      type: 'subscribe';
      id: string;
      topic: 'metric';
      metricId: string;
      /** How many of the latest minute points come with each message (1–120, default 30). */
      points?: number;
    }
  | { type: 'unsubscribe'; id: string }
  | { type: 'ping' };

export type Topic = Extract<ClientMessage, { type: 'subscribe' }>['topic'];

// ---- Server → client ------------------------------------------------------------------------

/** An event as the live stream shows it (the live bus carries the same). */
export type { LiveEvent } from '../events/index.js';
import type { LiveEvent } from '../events/index.js';

export interface CountersData {
  /** Start of the second the counts are for, ISO 8601. */
  at: string;
  eventsPerSecond: number;
  /** The top event names of that second. */
  byName: { name: string; count: number }[];
  /** Distinct users and sessions with events in the last 5 minutes. */
  activeUsers: number;
  activeSessions: number;
  /** Visitors as the insights `live` endpoint counts them. */
  liveVisitors: number;
}

export interface MetricData {
  metricId: string;
  name: string;
  unit?: string;
  /** The metric over the current minute so far. */
  value: number | null;
  /** The latest minute points, oldest first (ISO 8601 `t`). */
  points: { t: string; value: number | null }[];
  at: string;
}

export type ServerMessage =
  | {
      type: 'ready';
      accountId: string;
      protocol: number;
      limits: { maxMessageBytes: number; maxMessagesPerSecond: number; queue: number };
    }
  | {
      type: 'events';
      subscription: string;
      snapshot: boolean;
      /** Share of the matching events this message carries (1 = all; 0.25 = one in four). */
      sampleRate: number;
      /** Matching events in the span these stand for (before sampling). */
      matched: number;
      events: LiveEvent[];
    }
  | ({ type: 'counters'; subscription: string; snapshot: boolean } & CountersData)
  | ({ type: 'metric'; subscription: string; snapshot: boolean } & MetricData)
  | { type: 'subscribed'; subscription: string; topic: Topic }
  | { type: 'unsubscribed'; subscription: string }
  /** Messages this socket did not get because it read too slowly (the oldest go first). */
  | { type: 'dropped'; count: number }
  | { type: 'pong' }
  | { type: 'error'; code: string; message: string; subscription?: string };

/** WebSocket close codes (RFC 6455 leaves 4000–4999 to applications). */
export const CLOSE_CODES = {
  /** No credential, or an invalid or expired token. */
  unauthorized: 4401,
  /** A credential that may not read this account (a write client). */
  forbidden: 4403,
  /** `/ws/metrics/:id` of a metric the account does not have. */
  notFound: 4404,
  /** A message larger than the limit (the WebSocket standard's 1009). */
  tooBig: 1009,
} as const;
