import { ApiError } from '../common/api-error.js';
import type { CountBy, FunnelStep } from './funnel-retention.query.js';
import { type InsightsFilter, parseFilters } from './insights-filters.js';
import { DIMENSION_NAMES } from './insights-query.js';

/** The insights API's inputs, checked as the endpoints check them (reports take the same). */

export function countByOf(value: unknown): CountBy {
  if (value === undefined) return 'profile';
  if (value === 'profile' || value === 'session') return value;
  throw ApiError.validation([{ field: 'countBy', message: 'must be profile or session' }]);
}

export function eventName(value: unknown, field: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 200) throw ApiError.validation([{ field, message: 'must be an event name' }]);
  return value;
}

/** A funnel's steps: event names, or {name, filters} with filters as OpenPanel's. */
export function funnelSteps(raw: unknown): FunnelStep[] {
  if (!Array.isArray(raw) || raw.length < 2 || raw.length > 10) {
    throw ApiError.validation([{ field: 'steps', message: 'must be an array of 2 to 10 steps (event names or {name, filters})' }]);
  }
  return raw.map((step, i) => {
    const at = `steps[${i}]`;
    if (typeof step === 'string') return { name: eventName(step, at) ?? missing(at), filters: [] };
    if (typeof step !== 'object' || step === null) throw ApiError.validation([{ field: at, message: 'must be an event name or {name, filters}' }]);
    const { name, filters } = step as { name?: unknown; filters?: unknown };
    let parsed: InsightsFilter[] = [];
    if (filters !== undefined) {
      try {
        parsed = parseFilters(JSON.stringify(filters), DIMENSION_NAMES);
      } catch (err) {
        if (err instanceof ApiError) throw ApiError.validation((err.details as { field: string; message: string }[]).map((d) => ({ ...d, field: `${at}.${d.field}` })));
        throw err;
      }
    }
    return { name: eventName(name, `${at}.name`) ?? missing(`${at}.name`), filters: parsed };
  });
}

function missing(field: string): never {
  throw ApiError.validation([{ field, message: 'is required (an event name)' }]);
}
