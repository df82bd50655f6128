import type { PageInput, WebContext } from './web-context.js';

/** The canonical event every source decodes into (the product's Events API shape). */
export interface EventInput {
  eventId?: string;
  eventType: string;
  eventName: string;
  timestamp?: string | number;
  sessionId?: string;
  userId?: string;
  anonymousId?: string;
  properties?: Record<string, unknown>;
  context?: { ip?: string; userAgent?: string; locale?: string; page?: PageInput };
}

/** What the request itself tells about the sender, used when the event does not say. */
export interface RequestContext {
  ip: string;
  userAgent: string | undefined;
  receivedAt: number;
  /** Content-Length of the request, when the client sent it */
  bodyBytes?: number;
}

/** One row of the `events` table exactly as written (JSONEachRow). */
export interface EventRow {
  account_id: string;
  event_id: string;
  event_type: string;
  event_name: string;
  /** 'YYYY-MM-DD hh:mm:ss.sss' in UTC */
  timestamp: string;
  received_at: string;
  session_id: string;
  user_id: string;
  anonymous_id: string;
  /** JSON text of the properties object */
  properties: string;
  ip: string;
  user_agent: string;
  locale: string;
  browser: string;
  browser_version: string;
  os: string;
  os_version: string;
  device_type: string;
  /** Lower-cased event name and property values, for the token index behind full-text search */
  search_text: string;
}

/** One row of the `events` table as the ingest pipeline writes it: with its web context, if any. */
export interface EnrichedEventRow extends EventRow, Partial<WebContext> {
  /** 1 when the user agent is a bot's (stored, counted apart, left out of analytics); absent is 0 */
  is_bot?: 1;
}

/** An event as the API returns it. */
export interface StoredEvent {
  eventId: string;
  eventType: string;
  eventName: string;
  timestamp: string;
  receivedAt: string;
  sessionId: string | null;
  userId: string | null;
  anonymousId: string | null;
  properties: Record<string, unknown>;
  context: {
    ip: string | null;
    userAgent: string | null;
    locale: string | null;
    browser: string | null;
    browserVersion: string | null;
    os: string | null;
    osVersion: string | null;
    deviceType: string | null;
  };
}
