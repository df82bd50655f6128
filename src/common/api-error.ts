/**
 * The one error shape of the API: `{"error": {"code", "message", "details"?}}`.
 * Domain code throws ApiError (or a subclass); the exception filter renders it.
 */
export interface FieldProblem {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Extra response headers, e.g. Retry-After on 503. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static validation(problems: FieldProblem[], message?: string): ApiError {
    const text = message ?? problems.map((p) => `${p.field}: ${p.message}`).join('; ');
    return new ApiError(400, 'validation_failed', text, problems);
  }

  /** 413: the request, or its only event, is larger than a documented limit. */
  static tooLarge(problems: FieldProblem[]): ApiError {
    return new ApiError(413, 'payload_too_large', problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems);
  }

  static unauthorized(message = 'missing or invalid credentials'): ApiError {
    return new ApiError(401, 'unauthorized', message);
  }

  static forbidden(message: string): ApiError {
    return new ApiError(403, 'forbidden', message);
  }

  static notFound(what: string): ApiError {
    return new ApiError(404, 'not_found', `${what} not found`);
  }

  static unavailable(message: string, retryAfterSeconds: number): ApiError {
    return new ApiError(503, 'unavailable', message, undefined, { 'Retry-After': String(retryAfterSeconds) });
  }
}
