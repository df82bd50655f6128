import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../common/api-error.js';

/** What Fechatter's services send: protobuf, under any of its names, or no content type at all. */
const PROTOBUF_TYPES = ['application/protobuf', 'application/x-protobuf', 'application/vnd.google.protobuf', 'application/octet-stream'];

/**
 * Lets the given routes read their body as raw bytes when it is protobuf or has no content type
 * (Fechatter's analytics server never checked the header). Every other route keeps refusing
 * those with 415, as it refuses any body that is not JSON.
 */
export function acceptProtobufBodies(fastify: FastifyInstance, routes: readonly string[]): void {
  const allowed = new Set(routes);
  const parse = (request: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
    if (allowed.has(request.routeOptions.url ?? '')) return done(null, body);
    done(unsupported(request.headers['content-type']));
  };
  const refuse = (request: FastifyRequest, done: (err: Error | null, body?: unknown) => void) =>
    done(allowed.has(request.routeOptions.url ?? '') ? notProtobuf(request.headers['content-type']) : unsupported(request.headers['content-type']));
  fastify.addContentTypeParser(PROTOBUF_TYPES, { parseAs: 'buffer' }, parse);
  // The catch-all also receives bodies without a content type; other types stay unsupported.
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    if (request.headers['content-type'] === undefined) return parse(request, body as Buffer, done);
    refuse(request, done);
  });
}

/** The error Fastify itself raises for a content type it has no parser for (answered 415 by the filter). */
function unsupported(contentType: string | undefined): Error & { statusCode: number; code: string } {
  return Object.assign(new Error(`Unsupported Media Type: ${contentType ?? 'none'}`), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' });
}

/** A protobuf route's 415: what it reads, and where JSON goes. */
export function notProtobuf(contentType: string | undefined): ApiError {
  const got = contentType ? `got ${contentType.slice(0, 100)}` : 'none was sent';
  return new ApiError(415, 'unsupported_media_type', `this route reads a protobuf body (application/protobuf); JSON goes to the /json route beside it (${got})`, [
    { field: 'content-type', message: `must be application/protobuf, application/x-protobuf or absent (${got})` },
  ]);
}
