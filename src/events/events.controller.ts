import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, UsePipes } from '@nestjs/common';
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
import type { AuthenticatedRequest } from '../accounts/auth.decorators.js';
import { requestContext } from './request-context.js';
import { EVENT_LIMITS } from './event.validator.js';
import { SearchEventsQueryDto } from './events.dto.js';
import { IngestService } from './ingest.service.js';

@Controller('api/events')
export class EventsController {
  constructor(
    private readonly ingest: IngestService,
    @Inject(EVENT_SEARCH) private readonly search: EventSearch,
  ) {}

  @Post()
  @HttpCode(202)
  @RequirePermission('ingest')
  async trackOne(@CurrentAccountId() accountId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest) {
    const outcome = await this.ingest.ingest(accountId, [body], requestContext(request));
    const rejected = outcome.rejected[0];
    if (rejected) throw rejected.tooLarge ? ApiError.tooLarge(rejected.errors) : ApiError.validation(rejected.errors);
    return { eventId: outcome.eventIds[0] };
  }

  @Post('batch')
  @HttpCode(202)
  @RequirePermission('ingest')
  async trackBatch(@CurrentAccountId() accountId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest) {
    const events = (body as { events?: unknown } | null)?.events;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw ApiError.validation([{ field: 'body', message: 'must be an object {"events": [...]}' }]);
    }
    const extra = Object.keys(body).filter((k) => k !== 'events');
    if (extra.length > 0) throw ApiError.validation(extra.map((field) => ({ field, message: 'is not a known field' })));
    if (!Array.isArray(events)) throw ApiError.validation([{ field: 'events', message: 'must be an array' }]);
    if (events.length === 0) throw ApiError.validation([{ field: 'events', message: 'must not be empty' }]);
    if (events.length > EVENT_LIMITS.maxBatchEvents) {
      throw ApiError.tooLarge([{ field: 'events', message: `has ${events.length} events; at most ${EVENT_LIMITS.maxBatchEvents} are allowed` }]);
    }
    const outcome = await this.ingest.ingest(accountId, events, requestContext(request), 'events');
    const rejected = outcome.rejected.map((r) => ({ index: r.index, errors: r.errors }));
    if (outcome.accepted === 0) {
      // Nothing was kept: the one error shape, with each problem's path naming its event.
      const problems = outcome.rejected.flatMap((r) => r.errors);
      if (outcome.rejected.every((r) => r.tooLarge)) throw ApiError.tooLarge(problems);
      const shown = problems.slice(0, 3).map((p) => `${p.field}: ${p.message}`);
      const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more in details` : '';
      throw ApiError.validation(problems, `no event in the batch was accepted: ${shown.join('; ')}${more}`);
    }
    return { accepted: outcome.accepted, duplicates: outcome.duplicates, rejected };
  }

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
