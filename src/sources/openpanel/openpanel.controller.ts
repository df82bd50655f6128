import { Body, Controller, HttpCode, Options, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { type AuthenticatedRequest, CurrentAccountId, RequirePermission } from '../../accounts/auth.decorators.js';
import { ApiError, type FieldProblem } from '../../common/api-error.js';
import { ErrorShape } from '../../common/error-shape.js';
import { type EventInput, type IngestOptions, IngestService, requestContext } from '../../events/index.js';
import { decodeEnvelope, OPENPANEL_FIELD_NAMES } from './openpanel-envelope.decoder.js';
import { renderOpenPanelError } from './openpanel-error.shape.js';
import { ALLOWED_HEADERS, allowOrigin } from './openpanel.cors.js';

/**
 * Web SDKs keep no device id of their own: track events get the cookieless one, and errors
 * name the envelope's fields.
 */
const INGEST_OPTIONS: IngestOptions = { cookielessDevice: true, wireFields: OPENPANEL_FIELD_NAMES };

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
@ErrorShape(renderOpenPanelError)
export class OpenPanelController {
  constructor(private readonly ingest: IngestService) {}

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
    const { event } = decoded.envelope;
    const outcome = await this.ingest.ingest(accountId, [event], requestContext(request), INGEST_OPTIONS);
    const rejected = outcome.rejected[0];
    if (rejected) throw rejected.tooLarge ? ApiError.tooLarge(rejected.errors) : ApiError.validation(rejected.errors);
    // OpenPanel's SDKs read deviceId (the sender's, or the cookieless one) and sessionId; Event Lens clients read success.
    return { success: true, deviceId: outcome.deviceIds?.[0] ?? event.anonymousId ?? null, sessionId: event.sessionId ?? null };
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
    const rejected: Rejection[] = [];
    const events: EventInput[] = [];
    const indexes: number[] = [];
    for (const [index, item] of items.entries()) {
      const decoded = decodeEnvelope(item, `${field}[${index}]`);
      if (!decoded.ok) {
        rejected.push({ index, reason: 'invalid', error: decoded.errors });
        continue;
      }
      events.push(decoded.envelope.event);
      indexes.push(index);
    }
    // The ingest service names the envelopes by their place in the request, not among the decoded ones.
    const eventPath = (i: number) => `${field}[${indexes[i]}]`;
    const outcome =
      events.length > 0 ? await this.ingest.ingest(accountId, events, requestContext(request), { ...INGEST_OPTIONS, eventPath }) : { accepted: 0, rejected: [] };
    for (const r of outcome.rejected) rejected.push({ index: indexes[r.index]!, reason: 'invalid', error: r.errors });
    rejected.sort((a, b) => a.index - b.index);
    return { accepted: outcome.accepted, rejected };
  }
}
