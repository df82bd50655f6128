import { ApiError } from '../../common/api-error.js';
import { EVENT_LIMITS } from '../../events/index.js';

/**
 * The Events API speaks the canonical event itself (src/events/event.types.ts), so decoding is
 * only the batch's wrapper: `{"events": [...]}`, nothing beside it, 1 to 1000 events. Each
 * event is validated by the ingest service, which reports it by index.
 */
export function decodeBatchBody(body: unknown): unknown[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw ApiError.validation([{ field: 'body', message: 'must be an object {"events": [...]}' }]);
  }
  const extra = Object.keys(body).filter((k) => k !== 'events');
  if (extra.length > 0) throw ApiError.validation(extra.map((field) => ({ field, message: 'is not a known field' })));
  const events = (body as { events?: unknown }).events;
  if (!Array.isArray(events)) throw ApiError.validation([{ field: 'events', message: 'must be an array' }]);
  if (events.length === 0) throw ApiError.validation([{ field: 'events', message: 'must not be empty' }]);
  if (events.length > EVENT_LIMITS.maxBatchEvents) {
    throw ApiError.tooLarge([{ field: 'events', message: `has ${events.length} events; at most ${EVENT_LIMITS.maxBatchEvents} are allowed` }]);
  }
  return events;
}

/** Field paths of a batch's events in errors: `events[3].eventName`. */
export const batchEventPath = (index: number): string => `events[${index}]`;
