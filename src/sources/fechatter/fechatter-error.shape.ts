import type { ErrorRenderer } from '../../common/error-shape.js';

/**
 * Fechatter's analytics server answered errors as `{"error": "<message>"}`; its clients read
 * that field. The field-by-field `details` (and the code) this service always gives come beside it.
 */
export const renderFechatterError: ErrorRenderer = (_status, error) => ({
  body: { error: error.message, code: error.code, ...(error.details !== undefined ? { details: error.details } : {}) },
});
