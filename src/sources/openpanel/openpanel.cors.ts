import type { FastifyReply, FastifyRequest } from 'fastify';

/** Headers the SDKs send, allowed in CORS preflights. */
export const ALLOWED_HEADERS = [
  'content-type',
  'openpanel-client-id',
  'openpanel-client-secret',
  'openpanel-sdk-name',
  'openpanel-sdk-version',
  'event-lens-client-id',
  'event-lens-client-secret',
].join(', ');

/**
 * The headers that let the calling page read an answer, errors included, or none when the
 * request names no origin. Any origin is echoed: a request is only accepted from an origin its
 * account allows (or with a secret), and an answer holds nothing another origin should not see.
 */
export function originHeaders(request: FastifyRequest): Record<string, string> | undefined {
  const origin = request.headers.origin;
  return typeof origin === 'string' ? { 'access-control-allow-origin': origin, vary: 'Origin' } : undefined;
}

/** Lets the calling page read the answer. Preflights are answered for any origin. */
export function allowOrigin(request: FastifyRequest, reply: FastifyReply): void {
  const headers = originHeaders(request);
  if (headers) void reply.headers(headers);
}
