import type { AuthenticatedRequest } from '../accounts/auth.decorators.js';
import type { RequestContext } from './event.types.js';

/** What an HTTP request tells about its sender, for events that do not say. */
export function requestContext(request: AuthenticatedRequest): RequestContext {
  const ua = request.headers['user-agent'];
  const length = Number(request.headers['content-length']);
  return {
    ip: request.ip,
    userAgent: typeof ua === 'string' ? ua : undefined,
    receivedAt: Date.now(),
    bodyBytes: Number.isFinite(length) ? length : undefined,
  };
}
