import { Body, Controller, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { type AuthenticatedRequest, CurrentAccountId, RequirePermission } from '../../accounts/auth.decorators.js';
import { ApiError, type FieldProblem } from '../../common/api-error.js';
import { ErrorShape } from '../../common/error-shape.js';
import { EVENT_LIMITS, requestContext } from '../../events/index.js';
import { renderFechatterError } from './fechatter-error.shape.js';
import { batchFromJson, type DecodedBatch, decodeBatchBytes, decodeEventBytes, eventFromJson, type FechatterEvent } from './fechatter-event.decoder.js';
import { fechatterClientIp, fechatterPlace } from './fechatter-http-context.js';
import { FechatterIngest, type FechatterTransport } from './fechatter-ingest.js';
import { notProtobuf } from './protobuf-body.js';

/** The routes that read raw protobuf (see protobuf-body.ts). */
export const PROTOBUF_ROUTES = ['/api/event', '/api/batch'] as const;

interface BatchFailure {
  index: number;
  errors: FieldProblem[];
}

/**
 * Fechatter's analytics server's HTTP API: one protobuf AnalyticsEvent (`/api/event`), a
 * BatchRecordEventsRequest (`/api/batch`), and their JSON twins; answered as the original did
 * (201 with the session and the server's time; a batch's processed / failed / total), once the
 * ingest log holds the events. Beside the original: undecodable bodies are a 400 saying why,
 * and a batch names the events it failed and why.
 */
@Controller('api')
@ErrorShape(renderFechatterError)
export class FechatterController {
  constructor(private readonly fechatter: FechatterIngest) {}

  @Post('event')
  @RequirePermission('ingest')
  async event(@CurrentAccountId() accountId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest, @Res() reply: FastifyReply) {
    const decoded = decodeEventBytes(protobufBody(body));
    if (!decoded.ok) throw ApiError.validation(decoded.errors);
    await this.one(accountId, decoded.value, request, reply);
  }

  @Post('event/json')
  @RequirePermission('ingest')
  async eventJson(@CurrentAccountId() accountId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest, @Res() reply: FastifyReply) {
    const decoded = eventFromJson(body);
    if (!decoded.ok) throw ApiError.validation(decoded.errors);
    await this.one(accountId, decoded.value, request, reply);
  }

  @Post('batch')
  @RequirePermission('ingest')
  async batch(@CurrentAccountId() accountId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest, @Res() reply: FastifyReply) {
    await this.many(accountId, decodeBatchBytes(protobufBody(body)), request, reply);
  }

  @Post('batch/json')
  @RequirePermission('ingest')
  async batchJson(@CurrentAccountId() accountId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest, @Res() reply: FastifyReply) {
    await this.many(accountId, batchFromJson(body), request, reply);
  }

  private async one(accountId: string, event: FechatterEvent, request: AuthenticatedRequest, reply: FastifyReply): Promise<void> {
    const context = requestContext(request);
    const outcome = await this.fechatter.record(accountId, [event], context, transport(request));
    const rejected = outcome.rejected[0];
    if (rejected) throw rejected.tooLarge ? ApiError.tooLarge(rejected.errors) : ApiError.validation(rejected.errors);
    await reply.status(201).send({
      status: 'success',
      message: outcome.duplicates > 0 ? 'event already recorded' : 'event recorded',
      session_id: outcome.sessionIds[0] ?? null,
      server_ts: context.receivedAt,
    });
  }

  /** Every decodable, valid event is kept; each other one is reported by index and never sinks the rest. */
  private async many(accountId: string, decoded: DecodedBatch, request: AuthenticatedRequest, reply: FastifyReply): Promise<void> {
    if (!decoded.ok) throw ApiError.validation(decoded.errors);
    const { items } = decoded;
    if (items.length === 0) {
      await reply.status(200).send({ status: 'success', message: 'empty batch', processed: 0, failed: 0, total: 0 });
      return;
    }
    if (items.length > EVENT_LIMITS.maxBatchEvents) {
      throw ApiError.tooLarge([{ field: 'events', message: `has ${items.length} events; at most ${EVENT_LIMITS.maxBatchEvents} are allowed` }]);
    }
    const failures: BatchFailure[] = [];
    const events: FechatterEvent[] = [];
    const indexes: number[] = [];
    items.forEach((item, index) => {
      if (item.ok) {
        events.push(item.value);
        indexes.push(index);
      } else failures.push({ index, errors: item.errors });
    });
    const context = requestContext(request);
    if (events.length > 0) {
      const outcome = await this.fechatter.record(accountId, events, context, { ...transport(request), eventPath: (i) => `events[${indexes[i]}]` });
      for (const r of outcome.rejected) failures.push({ index: indexes[r.index]!, errors: r.errors });
    }
    failures.sort((a, b) => a.index - b.index);
    const processed = items.length - failures.length;
    if (processed === 0) {
      throw ApiError.validation(
        failures.flatMap((f) => f.errors),
        `none of the ${items.length} events could be recorded: ${failures[0]!.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
      );
    }
    await reply.status(201).send({
      status: 'success',
      message: failures.length === 0 ? `${processed} events recorded` : `${processed} of ${items.length} events recorded`,
      processed,
      failed: failures.length,
      total: items.length,
      ...(failures.length > 0 ? { failures } : {}),
      server_ts: context.receivedAt,
    });
  }
}

/** The raw body of a protobuf route; an empty request is an empty message. */
function protobufBody(body: unknown): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array();
  if (Buffer.isBuffer(body)) return body;
  // A JSON body reached a protobuf route (content-type: application/json).
  throw notProtobuf('application/json');
}

function transport(request: AuthenticatedRequest): FechatterTransport {
  return { ip: fechatterClientIp(request.headers), geo: fechatterPlace(request.headers) };
}
