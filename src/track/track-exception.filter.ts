import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiExceptionFilter } from '../common/api-exception.filter.js';

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/**
 * The track API's errors in OpenPanel's shape, `{"status", "error", "message"}`, plus the
 * field-by-field `details` this service always gives. A browser page may read them (CORS), so
 * the SDK sees a 401 for a refused origin and stops, instead of taking it for a network error
 * and retrying; an error body holds nothing an origin should not see.
 */
@Catch()
export class TrackExceptionFilter implements ExceptionFilter {
  private readonly inner = new ApiExceptionFilter();

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const origin = host.switchToHttp().getRequest<FastifyRequest>().headers.origin;
    if (typeof origin === 'string') void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    // Let the shared filter decide status, headers and logging, then reshape its body.
    const send = reply.send.bind(reply);
    reply.send = ((payload: { error: { message: string; details?: unknown } }) => {
      const status = reply.statusCode;
      reply.send = send;
      return send({ status, error: REASON[status] ?? 'Error', message: payload.error.message, details: payload.error.details });
    }) as typeof reply.send;
    this.inner.catch(exception, host);
  }
}
