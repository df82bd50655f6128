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
  context?: { ip?: string; userAgent?: string; locale?: string; page?: PageInput; geo?: GeoInput };
}

/**
 * Where the sender says the user is (a CDN's country header, a client's own lookup): it wins
 * over the lookup of the IP for the fields it gives.
 */
export interface GeoInput {
  country?: string;
  region?: string;
  city?: string;
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
    /** The page a web event was sent from (null for other events). */
    page: { origin: string | null; path: string | null; title: string | null } | null;
    /** Where the visit came from: the referring URL, its source's name and its type (direct, search, social, …). */
    referrer: { url: string | null; name: string | null; type: string } | null;
    utm: { source: string | null; medium: string | null; campaign: string | null; term: string | null; content: string | null } | null;
    /** From the IP, with the offline GeoLite2 database. */
    geo: { country: string | null; region: string | null; city: string | null } | null;
  };
  /** A crawler or headless browser's event: stored, but left out of metrics, sessions and insights. */
  isBot: boolean;
}
