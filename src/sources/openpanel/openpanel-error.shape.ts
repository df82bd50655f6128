import type { ErrorRenderer } from '../../common/error-shape.js';
import { originHeaders } from './openpanel.cors.js';

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
export const renderOpenPanelError: ErrorRenderer = (status, error, request) => ({
  body: { status, error: REASON[status] ?? 'Error', message: error.message, details: error.details },
  headers: originHeaders(request),
});
