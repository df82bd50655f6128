import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { type AuthenticatedRequest, CurrentAccountId, RequirePermission } from '../../accounts/auth.decorators.js';
import { ApiError, type FieldProblem } from '../../common/api-error.js';
import { type EventInput, type IngestOptions, IngestService, requestContext } from '../../events/index.js';
import { decodeMessage, SEGMENT_FIELD_NAMES, SEGMENT_LIMITS, type SegmentType, withBatchDefaults } from './segment-message.decoder.js';

/** Server SDKs send for many users from one host: no cookieless device (it would make them one visitor). */
const INGEST_OPTIONS: IngestOptions = { wireFields: SEGMENT_FIELD_NAMES };

/** Segment answers a body over its limit, or one that is not JSON, with 400 (the filter maps Fastify's 413). */
const CALL_LIMITS = { bodyLimit: SEGMENT_LIMITS.maxCallBytes, bodyErrorStatus: 400 };
const BATCH_LIMITS = { bodyLimit: SEGMENT_LIMITS.maxBatchBytes, bodyErrorStatus: 400 };

/** The write key as the Basic user name, or `"writeKey"` in the body (these routes only). */
const INGEST = RequirePermission('ingest', { bodyWriteKey: true });

export interface SegmentRejection {
  index: number;
  messageId?: string;
  errors: FieldProblem[];
}

/**
 * Segment's HTTP Tracking API (also spoken by RudderStack and Segment's server SDKs): each call,
 * and `/v1/batch`, becomes canonical events on the same durable pipeline as /api/events,
 * answered `{"success": true}` once the ingest log holds them. A single call with a bad message
 * is a 400 naming the field; a batch keeps every good message and lists the rejected ones.
 */
@Controller('v1')
export class SegmentController {
  constructor(private readonly ingest: IngestService) {}

  @Post(['track', 't'])
  @HttpCode(200)
  @INGEST
  @RouteConfig(CALL_LIMITS)
  track(@CurrentAccountId() accountId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest) {
    return this.one('track', accountId, body, request);
  }

  @Post(['identify', 'i'])
  @HttpCode(200)
  @INGEST
  @RouteConfig(CALL_LIMITS)
  identify(@CurrentAccountId() accountId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest) {
    return this.one('identify', accountId, body, request);
  }

  @Post(['page', 'p'])
  @HttpCode(200)
  @INGEST
  @RouteConfig(CALL_LIMITS)
  page(@CurrentAccountId() accountId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest) {
    return this.one('page', accountId, body, request);
  }

  @Post(['screen', 's'])
  @HttpCode(200)
  @INGEST
  @RouteConfig(CALL_LIMITS)
  screen(@CurrentAccountId() accountId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest) {
    return this.one('screen', accountId, body, request);
  }

  @Post(['group', 'g'])
  @HttpCode(200)
  @INGEST
  @RouteConfig(CALL_LIMITS)
  group(@CurrentAccountId() accountId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest) {
    return this.one('group', accountId, body, request);
  }

  @Post(['alias', 'a'])
  @HttpCode(200)
  @INGEST
  @RouteConfig(CALL_LIMITS)
  alias(@CurrentAccountId() accountId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest) {
    return this.one('alias', accountId, body, request);
  }

  private async one(type: SegmentType, accountId: string, body: unknown, request: AuthenticatedRequest) {
    const context = requestContext(request);
    const decoded = decodeMessage(body, type, { receivedAt: context.receivedAt });
    if (!decoded.ok) throw ApiError.validation(decoded.errors);
    const outcome = await this.ingest.ingest(accountId, decoded.events, context, INGEST_OPTIONS);
    const errors = outcome.rejected.flatMap((r) => r.errors);
    // Segment's answer to anything over its limits is 400, the event's size included.
    if (errors.length > 0) throw ApiError.validation(errors);
    return { success: true };
  }

  /** `{"batch": [...], "context"?, "integrations"?, "sentAt"?, "writeKey"?}`: at most 2500 messages, 500 KB. */
  @Post('batch')
  @HttpCode(200)
  @INGEST
  @RouteConfig(BATCH_LIMITS)
  async batch(@CurrentAccountId() accountId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest) {
    const batch = (body as { batch?: unknown } | null)?.batch;
    if (!Array.isArray(batch)) throw ApiError.validation([{ field: 'batch', message: 'must be an array of messages' }]);
    if (batch.length === 0) throw ApiError.validation([{ field: 'batch', message: 'must not be empty' }]);
    if (batch.length > SEGMENT_LIMITS.maxBatchEvents) {
      throw ApiError.validation([{ field: 'batch', message: `has ${batch.length} messages; at most ${SEGMENT_LIMITS.maxBatchEvents} are allowed` }]);
    }
    const shared = body as Record<string, unknown>;
    const context = requestContext(request);
    const rejected = new Map<number, SegmentRejection>();
    const reject = (index: number, messageId: string | undefined, errors: FieldProblem[]) => {
      const r = rejected.get(index) ?? { index, ...(messageId ? { messageId } : {}), errors: [] };
      r.errors.push(...errors);
      rejected.set(index, r);
    };
    const events: EventInput[] = [];
    /** The batch index of each decoded event (a message may become two). */
    const owners: number[] = [];
    const messageIds: (string | undefined)[] = [];
    for (const [index, raw] of batch.entries()) {
      const at = `batch[${index}]`;
      const bytes = Buffer.byteLength(JSON.stringify(raw) ?? '');
      const item = withBatchDefaults(raw, shared);
      if (bytes > SEGMENT_LIMITS.maxEventBytes) {
        const messageId = (raw as { messageId?: unknown } | null)?.messageId;
        reject(index, typeof messageId === 'string' ? messageId : undefined, [
          { field: at, message: `is ${bytes} bytes; at most ${SEGMENT_LIMITS.maxEventBytes} are allowed per message` },
        ]);
        continue;
      }
      const decoded = decodeMessage(item, undefined, { receivedAt: context.receivedAt, at, batchSentAt: shared.sentAt });
      messageIds[index] = decoded.messageId;
      if (!decoded.ok) {
        reject(index, decoded.messageId, decoded.errors);
        continue;
      }
      for (const event of decoded.events) {
        events.push(event);
        owners.push(index);
      }
    }
    if (events.length > 0) {
      const outcome = await this.ingest.ingest(accountId, events, context, { ...INGEST_OPTIONS, eventPath: (i) => `batch[${owners[i]}]` });
      for (const r of outcome.rejected) reject(owners[r.index]!, messageIds[owners[r.index]!], r.errors);
    }
    const list = [...rejected.values()].sort((a, b) => a.index - b.index);
    return list.length > 0 ? { success: true, rejected: list } : { success: true };
  }
}
