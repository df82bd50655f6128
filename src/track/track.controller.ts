import { Body, Controller, HttpCode, Options, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { type AuthenticatedRequest, CurrentAccountId, RequirePermission } from '../accounts/auth.decorators.js';
import { ApiError, type FieldProblem } from '../common/api-error.js';
import type { EventInput, RequestContext } from '../events/event.types.js';
import { IngestService } from '../events/ingest.service.js';
import { requestContext } from '../events/request-context.js';
import { DailySaltService } from './daily-salt.service.js';
import { decodeEnvelope, toTrackField } from './track-envelope.js';
import { TrackExceptionFilter } from './track-exception.filter.js';

/** Headers the SDKs send, allowed in CORS preflights. */
const ALLOWED_HEADERS = [
  'content-type',
  'openpanel-client-id',
  'openpanel-client-secret',
  'openpanel-sdk-name',
  'openpanel-sdk-version',
  'event-lens-client-id',
  'event-lens-client-secret',
].join(', ');

/**
 * Lets the calling page read the answer. Preflights are answered for any origin: the request
 * that follows is only accepted from an origin its account allows (or with a secret).
 */
function allowOrigin(request: AuthenticatedRequest, reply: FastifyReply): void {
  const origin = request.headers.origin;
  if (typeof origin !== 'string') return;
  void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
}

/** OpenPanel's batch form allows this many envelopes. */
export const MAX_TRACK_BATCH = 2000;

interface Rejection {
  index: number;
  reason: string;
  error: FieldProblem[];
}

/**
 * The Event Lens / OpenPanel track API: `{type, payload}` envelopes, single or batched, become
 * canonical events on the same durable pipeline as /api/events (answered after the ingest log
 * holds them). Credentials come in `openpanel-client-id/-secret` or
 * `event-lens-client-id/-secret` headers.
 */
@Controller('track')
@UseFilters(TrackExceptionFilter)
export class TrackController {
  constructor(
    private readonly ingest: IngestService,
    private readonly salts: DailySaltService,
  ) {}

  @Options()
  @HttpCode(204)
  preflight(@Req() request: AuthenticatedRequest, @Res({ passthrough: true }) reply: FastifyReply): void {
    allowOrigin(request, reply);
    void reply.header('access-control-allow-methods', 'POST, OPTIONS').header('access-control-allow-headers', ALLOWED_HEADERS).header('access-control-max-age', '86400');
  }

  @Options('batch')
  @HttpCode(204)
  preflightBatch(@Req() request: AuthenticatedRequest, @Res({ passthrough: true }) reply: FastifyReply): void {
    this.preflight(request, reply);
  }

  /** One envelope (200), or OpenPanel's batch form `{"type": "batch", "payload": [...]}` (202). */
  @Post()
  @RequirePermission('ingest')
  async track(
    @CurrentAccountId() accountId: string,
    @Body() body: unknown,
    @Req() request: AuthenticatedRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    allowOrigin(request, reply);
    if ((body as { type?: unknown } | null)?.type === 'batch') {
      const items = (body as { payload?: unknown }).payload;
      if (!Array.isArray(items)) throw ApiError.validation([{ field: 'payload', message: 'must be an array of envelopes' }]);
      await reply.status(202).send(await this.many(accountId, items, 'payload', request));
      return;
    }
    await reply.status(200).send(await this.one(accountId, body, request));
  }

  private async one(accountId: string, body: unknown, request: AuthenticatedRequest) {
    const decoded = decodeEnvelope(body);
    if (!decoded.ok) throw ApiError.validation(decoded.errors);
    const context = requestContext(request);
    const event = await this.withDevice(accountId, decoded.envelope.event, decoded.envelope.ip, context);
    const outcome = await this.ingest.ingest(accountId, [event], context);
    const rejected = outcome.rejected[0];
    if (rejected) {
      const problems = rejected.errors.map((e) => ({ ...e, field: toTrackField(e.field, '') }));
      throw rejected.tooLarge ? ApiError.tooLarge(problems) : ApiError.validation(problems);
    }
    // OpenPanel's SDKs read deviceId and sessionId; Event Lens clients read success.
    return { success: true, deviceId: event.anonymousId ?? null, sessionId: event.sessionId ?? null };
  }

  @Post('batch')
  @HttpCode(202)
  @RequirePermission('ingest')
  async batch(
    @CurrentAccountId() accountId: string,
    @Body() body: unknown,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    allowOrigin(request, reply);
    const items = (body as { events?: unknown } | null)?.events;
    if (!Array.isArray(items)) throw ApiError.validation([{ field: 'events', message: 'must be an array of envelopes' }]);
    return this.many(accountId, items, 'events', request);
  }

  /** A batch: every good envelope is kept, every bad one is reported by index; none sinks the rest. */
  private async many(accountId: string, items: unknown[], field: string, request: AuthenticatedRequest) {
    if (items.length === 0) throw ApiError.validation([{ field, message: 'must not be empty' }]);
    if (items.length > MAX_TRACK_BATCH) {
      throw ApiError.tooLarge([{ field, message: `has ${items.length} envelopes; at most ${MAX_TRACK_BATCH} are allowed` }]);
    }
    const context = requestContext(request);
    const rejected: Rejection[] = [];
    const events: EventInput[] = [];
    const indexes: number[] = [];
    for (const [index, item] of items.entries()) {
      const decoded = decodeEnvelope(item, `${field}[${index}]`);
      if (!decoded.ok) {
        rejected.push({ index, reason: 'invalid', error: decoded.errors });
        continue;
      }
      events.push(await this.withDevice(accountId, decoded.envelope.event, decoded.envelope.ip, context));
      indexes.push(index);
    }
    const outcome = events.length > 0 ? await this.ingest.ingest(accountId, events, context) : { accepted: 0, rejected: [] };
    for (const r of outcome.rejected) {
      const index = indexes[r.index]!;
      rejected.push({ index, reason: 'invalid', error: r.errors.map((e) => ({ ...e, field: toTrackField(e.field, `${field}[${index}]`) })) });
    }
    rejected.sort((a, b) => a.index - b.index);
    return { accepted: outcome.accepted, rejected };
  }

  /** A track event without a device id gets the cookieless one (identify and the like need none). */
  private async withDevice(accountId: string, event: EventInput, ip: string | undefined, context: RequestContext): Promise<EventInput> {
    const withIp = ip ? { ...event, context: { ...event.context, ip } } : event;
    if (event.eventType !== 'track' || event.anonymousId) return withIp;
    const anonymousId = await this.salts.deviceId(accountId, ip ?? context.ip, context.userAgent ?? '', context.receivedAt);
    return { ...withIp, anonymousId };
  }
}

