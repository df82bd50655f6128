import type { EventRow, StoredEvent } from './event.types.js';
import type { WebContext } from './web-context.js';

/**
 * The columns every search adapter reads back (times and properties already converted): the
 * event's own, and its web context and bot flag where it has them.
 */
export type StoredColumns = Omit<EventRow, 'account_id' | 'timestamp' | 'received_at' | 'properties' | 'search_text'> &
  Partial<WebContext> & { is_bot?: number | boolean };

const orNull = (s: string | undefined): string | null => (s === undefined || s === '' ? null : s);

/** An object of the given fields, or null when every one is empty. */
function group<K extends string>(fields: Record<K, string | undefined>): Record<K, string | null> | null {
  const entries = Object.entries(fields) as [K, string | undefined][];
  if (entries.every(([, v]) => !v)) return null;
  return Object.fromEntries(entries.map(([k, v]) => [k, orNull(v)])) as Record<K, string | null>;
}

/** An event as the API returns it, from its stored columns: empty strings become null. */
export function toStoredEvent(
  r: StoredColumns,
  times: { timestamp: string; receivedAt: string },
  properties: Record<string, unknown>,
): StoredEvent {
  return {
    eventId: r.event_id,
    eventType: r.event_type,
    eventName: r.event_name,
    timestamp: times.timestamp,
    receivedAt: times.receivedAt,
    sessionId: orNull(r.session_id),
    userId: orNull(r.user_id),
    anonymousId: orNull(r.anonymous_id),
    properties,
    context: {
      ip: orNull(r.ip),
      userAgent: orNull(r.user_agent),
      locale: orNull(r.locale),
      browser: orNull(r.browser),
      browserVersion: orNull(r.browser_version),
      os: orNull(r.os),
      osVersion: orNull(r.os_version),
      deviceType: orNull(r.device_type),
      page: group({ origin: r.origin, path: r.path, title: r.title }),
      // A web event always has a referrer type (direct when none); other events have none.
      referrer: r.referrer_type ? { url: orNull(r.referrer), name: orNull(r.referrer_name), type: r.referrer_type } : null,
      utm: group({ source: r.utm_source, medium: r.utm_medium, campaign: r.utm_campaign, term: r.utm_term, content: r.utm_content }),
      geo: group({ country: r.country, region: r.region, city: r.city }),
    },
    isBot: Boolean(Number(r.is_bot ?? 0)),
  };
}
