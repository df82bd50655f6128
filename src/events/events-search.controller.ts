import { Controller, Get, Inject, Query, UsePipes } from '@nestjs/common';
import { validateDtos } from '../common/validation.pipe.js';
import { CurrentAccountId, RequirePermission } from '../accounts/auth.decorators.js';
import { ApiError } from '../common/api-error.js';
import { isApiInstant } from '../common/time.js';
import {
  EVENT_SEARCH,
  type EventSearch,
  type SearchCursor,
  searchTerms,
} from '../infrastructure/search/event-search.port.js';
import { SearchEventsQueryDto } from './events.dto.js';

/**
 * Search over stored events: a query, so it stays with the events (the ingest routes of the
 * same path, POST /api/events and /api/events/batch, are a source: src/sources/rest/).
 */
@Controller('api/events')
export class EventsSearchController {
  constructor(@Inject(EVENT_SEARCH) private readonly search: EventSearch) {}

  @Get('search')
  @RequirePermission('query')
  @UsePipes(validateDtos)
  async searchEvents(@CurrentAccountId() accountId: string, @Query() query: SearchEventsQueryDto) {
    const from = parseTime(query.from, 'from');
    const to = parseTime(query.to, 'to');
    if (from !== undefined && to !== undefined && from >= to) {
      throw ApiError.validation([{ field: 'from', message: 'must be before to' }]);
    }
    const limit = query.limit ?? 100;
    const page = await this.search.search({
      accountId,
      terms: searchTerms(query.q),
      eventType: query.eventType,
      eventName: query.eventName,
      userId: query.userId,
      sessionId: query.sessionId,
      from,
      to,
      limit,
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
    });
    return { events: page.events, nextCursor: page.last ? encodeCursor(page.last) : null };
  }
}

function parseTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw ApiError.validation([{ field, message: 'must be an ISO 8601 date or epoch milliseconds' }]);
  if (!isApiInstant(ms)) throw ApiError.validation([{ field, message: 'must be between 1970 and the end of 9999' }]);
  return ms;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(cursor: SearchCursor): string {
  return Buffer.from(JSON.stringify([cursor.t, cursor.id])).toString('base64url');
}

export function decodeCursor(text: string): SearchCursor {
  try {
    const [t, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof t === 'number' && Number.isInteger(t) && isApiInstant(t) && typeof id === 'string' && UUID.test(id)) return { t, id };
  } catch {
    // fall through to the error below
  }
  throw ApiError.validation([{ field: 'cursor', message: 'is not a cursor returned by this endpoint' }]);
}
