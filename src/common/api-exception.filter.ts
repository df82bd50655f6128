import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.js';
import type { ErrorBody, ErrorRenderer, RenderedError } from './error-shape.js';

const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'unavailable',
};

/** Fastify's own errors (bad JSON, body too large, wrong content type) carry a statusCode and FST_ code. */
export interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
}

/** The API's one error shape: `{"error": {"code", "message", "details"?}}`. */
export const renderApiError: ErrorRenderer = (_status, error): RenderedError => ({ body: { error } });

/**
 * Decides every error's status, headers and body, `{"error": {"code", "message", "details"?}}`;
 * 5xx bodies never leak internals. Registered globally with the API's shape; a source with a
 * wire format of its own gets an instance with its renderer through `@ErrorShape(renderFn)`.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  constructor(private readonly renderer: ErrorRenderer = renderApiError) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const decided = bodyErrorStatus(this.decide(exception), exception, request);
    const { status, headers } = decided;
    // Fastify's own 415 (no parser for the type) says what to send; a route's own 415 says it itself.
    const error = status === 415 && !(exception instanceof ApiError) ? unsupportedMediaType(request?.headers['content-type']) : decided.body;
    if (status >= 500) {
      this.logger.error({ reqId: request?.id, url: request?.url, err: exception }, 'request failed');
    }
    const rendered = this.renderer(status, error, request);
    if (rendered.headers) void reply.headers(rendered.headers);
    if (headers) void reply.headers(headers);
    void reply.status(status).send(rendered.body);
  }

  private decide(exception: unknown): { status: number; body: ErrorBody; headers?: Record<string, string> } {
    if (exception instanceof ApiError) {
      const body: ErrorBody = {
        code: exception.code,
        message: exception.message,
      };
      if (exception.details !== undefined) body.details = exception.details;
      return { status: exception.status, body, headers: exception.headers };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message =
        typeof response === 'object' && response !== null && 'message' in response
          ? String((response as { message: unknown }).message)
          : exception.message;
      return { status, body: { code: CODE_BY_STATUS[status] ?? 'error', message: describeBodyError(status, message) } };
    }
    const fastifyError = exception as FastifyLikeError;
    if (
      typeof fastifyError?.statusCode === 'number' &&
      fastifyError.statusCode >= 400 &&
      fastifyError.statusCode < 500
    ) {
      const status = fastifyError.statusCode;
      return {
        status,
        body: { code: CODE_BY_STATUS[status] ?? 'bad_request', message: describeBodyError(status, fastifyError.message) },
      };
    }
    return { status: 500, body: { code: 'internal', message: 'internal error' } };
  }
}

/**
 * A route whose wire format answers body errors with a status of its own declares it with
 * `@RouteConfig({ bodyErrorStatus, bodyLimit? })`: Segment's HTTP API answers a body over its
 * limit with 400, not 413. Only the framework's body errors change (the route's own ApiErrors keep theirs).
 */
function bodyErrorStatus<T extends { status: number; body: ErrorBody }>(decided: T, exception: unknown, request: FastifyRequest | undefined): T {
  const config = request?.routeOptions?.config as { bodyErrorStatus?: unknown; bodyLimit?: unknown } | undefined;
  const status = config?.bodyErrorStatus;
  if (typeof status !== 'number' || decided.status !== 413 || exception instanceof ApiError) return decided;
  const limit = typeof config?.bodyLimit === 'number' ? ` (at most ${config.bodyLimit} bytes here)` : '';
  return { ...decided, status, body: { ...decided.body, message: `${decided.body.message}${limit}`, details: [{ field: 'body', message: `is too large${limit}` }] } };
}

/**
 * The router's own refusals (a URL that is not valid percent-encoding, a path segment over the
 * router's limit), which it answers before any Nest code runs: in the one error shape.
 */
export function frameworkErrorBody(error: FastifyLikeError): { status: number; body: { error: { code: string; message: string } } } {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const message =
    error.code === 'FST_ERR_BAD_URL'
      ? 'the URL is not valid: its path has a malformed percent-encoding'
      : status === 414
        ? 'a segment of the URL path is too long (ids are at most 100 characters)'
        : error.message;
  return { status, body: { error: { code: CODE_BY_STATUS[status] ?? 'bad_request', message } } };
}

/** A 415 says what to send instead, and what came. */
function unsupportedMediaType(sent: string | undefined) {
  const got = sent ? `got ${sent.slice(0, 100)}` : 'none was sent';
  return {
    code: CODE_BY_STATUS[415]!,
    message: `send the body as JSON with content-type: application/json (${got})`,
    details: [{ field: 'content-type', message: `must be application/json (${got})` }],
  };
}

/** Parser and size errors concern the request body: say so, so the caller knows which part to fix. */
function describeBodyError(status: number, message: string): string {
  if (status === 413 || status === 415 || (status === 400 && /JSON|body/i.test(message))) return `body: ${message}`;
  return message;
}
