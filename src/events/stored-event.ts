import type { EventRow, StoredEvent } from './event.types.js';

/** The columns every search adapter reads back (times and properties already converted). */
export type StoredColumns = Omit<EventRow, 'account_id' | 'timestamp' | 'received_at' | 'properties' | 'search_text'>;

const orNull = (s: string): string | null => (s === '' ? null : s);

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
    },
  };
}
