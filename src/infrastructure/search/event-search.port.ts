import type { StoredEvent } from '../../events/event.types.js';

/**
 * The search port behind GET /api/events/search. Embedded: the events store itself (a token
 * bloom-filter index over event name and property values). Production: Elasticsearch.
 */
export const EVENT_SEARCH = Symbol('EVENT_SEARCH');

export interface SearchCursor {
  /** timestamp (epoch ms) and event id of the last event of the previous page */
  t: number;
  id: string;
}

export interface EventSearchQuery {
  accountId: string;
  /** Words that must all occur in the event name or a property value (case-insensitive). */
  terms: string[];
  eventType?: string;
  eventName?: string;
  userId?: string;
  sessionId?: string;
  /** epoch ms, inclusive */
  from?: number;
  /** epoch ms, exclusive */
  to?: number;
  limit: number;
  after?: SearchCursor;
}

export interface EventSearchPage {
  events: StoredEvent[];
  /** Cursor of the last event when more may follow, else null. */
  last: SearchCursor | null;
}

export interface EventSearch {
  readonly kind: 'events-store' | 'elasticsearch';
  search(query: EventSearchQuery): Promise<EventSearchPage>;
  /**
   * Makes stored events searchable (JSONEachRow rows of the events table). Idempotent per event
   * id; throws when any event could not be indexed, so the pipeline retries the batch.
   */
  index(rows: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** Splits free text into the words the token index knows: lower-case runs of letters and digits. */
export function searchTerms(q: string | undefined, max = 10): string[] {
  if (!q) return [];
  const words = q.toLowerCase().split(/[^a-z0-9\u0080-\uffff]+/u).filter((w) => w.length > 0);
  return [...new Set(words)].slice(0, max);
}
