import { UseFilters } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiExceptionFilter } from './api-exception.filter.js';

/** An error as ApiExceptionFilter decided it: what the API's one shape puts under `error`. */
export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

/** What a renderer makes of an error: the body, and headers to add to the answer (e.g. CORS). */
export interface RenderedError {
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * Renders a decided error in a wire format's own shape. Status, the error's own headers
 * (Retry-After), logging and the 5xx rule (no internals in a body) stay with the filter; a
 * renderer only chooses the body's shape and may add headers.
 */
export type ErrorRenderer = (status: number, error: ErrorBody, request: FastifyRequest) => RenderedError;

/**
 * The errors of a controller (or route) in a source's own shape, `@ErrorShape(renderFn)`: the
 * one ApiExceptionFilter with that renderer, for exceptions of the routes it decorates (guards,
 * pipes and handlers). What fails before routing (bad JSON, a wrong content type, an unknown
 * route) is answered by the global filter in the API's one shape.
 */
export const ErrorShape = (render: ErrorRenderer): ClassDecorator & MethodDecorator => UseFilters(new ApiExceptionFilter(render));
