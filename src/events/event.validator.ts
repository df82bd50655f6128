import { isIP } from 'node:net';
import type { FieldProblem } from '../common/api-error.js';
import type { EventInput } from './event.types.js';

/** Limits of one event (the spec's): a clear 4xx names the field that broke one. */
export const EVENT_LIMITS = {
  maxEventBytes: 32 * 1024,
  maxNameLength: 200,
  maxIdLength: 200,
  maxPropertyDepth: 6,
  maxPropertyKeys: 300,
  maxKeyLength: 200,
  maxUserAgentLength: 1024,
  maxLocaleLength: 35,
  maxFutureMs: 24 * 60 * 60 * 1000,
  maxBatchEvents: 1000,
  maxBatchBytes: 5 * 1024 * 1024,
} as const;

const KNOWN_FIELDS = new Set([
  'eventId',
  'accountId',
  'eventType',
  'eventName',
  'timestamp',
  'sessionId',
  'userId',
  'anonymousId',
  'properties',
  'context',
]);
const CONTEXT_FIELDS = new Set(['ip', 'userAgent', 'locale', 'page', 'geo']);
const GEO_FIELDS = new Set(['country', 'region', 'city']);
const MAX_PLACE_LENGTH = 128;
const PAGE_FIELDS: Record<string, number> = { url: 2048, referrer: 2048, title: 512 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// ISO 8601 date-time with an explicit zone (Z or ±hh:mm), or a plain date.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

export interface ValidatedEvent {
  input: EventInput;
  /** Event time, epoch ms */
  timestampMs: number;
  /** JSON text of the properties (already produced to measure the size; reused for the row) */
  propertiesJson: string;
  /** Lower-cased string/number property values, for full-text search */
  searchValues: string[];
}

export interface ValidationContext {
  accountId: string;
  now: number;
  retentionDays: number;
  /**
   * Size of the request body the event came in, when known: no event in it can be larger, so
   * when it is within the limit the per-event size check is skipped.
   */
  bodyBytes?: number;
}

/** `tooLarge`: the event's only problem is its size (answered 413 where it is the request's only event). */
export type ValidationResult = { ok: true; event: ValidatedEvent } | { ok: false; errors: FieldProblem[]; tooLarge?: true };

/**
 * Checks one event against the Events API schema and limits. Unknown fields are refused
 * rather than dropped, so a typo (`props`) is reported instead of silently losing data.
 */
export function validateEvent(raw: unknown, ctx: ValidationContext, path = ''): ValidationResult {
  const errors: FieldProblem[] = [];
  const at = (field: string) => (path ? `${path}.${field}` : field);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, errors: [{ field: path || 'body', message: 'must be a JSON object' }] };
  }
  const e = raw as Record<string, unknown>;
  for (const key of Object.keys(e)) {
    if (!KNOWN_FIELDS.has(key)) errors.push({ field: at(key), message: 'is not a known event field' });
  }

  requiredName(e.eventType, at('eventType'), errors);
  requiredName(e.eventName, at('eventName'), errors);
  if (e.eventId !== undefined && (typeof e.eventId !== 'string' || !UUID.test(e.eventId))) {
    errors.push({ field: at('eventId'), message: 'must be a UUID' });
  }
  if (e.accountId !== undefined && e.accountId !== ctx.accountId) {
    errors.push({ field: at('accountId'), message: 'does not match the account of the credentials (omit it)' });
  }
  for (const f of ['sessionId', 'userId', 'anonymousId'] as const) {
    const v = e[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') errors.push({ field: at(f), message: 'must be a string' });
    else if (v.length > EVENT_LIMITS.maxIdLength)
      errors.push({ field: at(f), message: `must be at most ${EVENT_LIMITS.maxIdLength} characters` });
  }

  const timestampMs = parseTimestamp(e.timestamp, ctx, at('timestamp'), errors);

  let propertiesJson = '{}';
  const searchValues: string[] = [];
  if (e.properties !== undefined && e.properties !== null) {
    if (typeof e.properties !== 'object' || Array.isArray(e.properties)) {
      errors.push({ field: at('properties'), message: 'must be an object' });
    } else {
      const walk: PropertyWalk = { keys: 0, values: searchValues, errors };
      checkProperties(e.properties as Record<string, unknown>, at('properties'), 1, walk);
      if (walk.keys > EVENT_LIMITS.maxPropertyKeys) {
        errors.push({
          field: at('properties'),
          message: `has more than ${EVENT_LIMITS.maxPropertyKeys} keys (nested keys count)`,
        });
      }
      propertiesJson = JSON.stringify(e.properties);
    }
  }

  if (e.context !== undefined && e.context !== null) checkContext(e.context, at('context'), errors);

  const bodyMayHoldLargeEvent = ctx.bodyBytes === undefined || ctx.bodyBytes > EVENT_LIMITS.maxEventBytes;
  if (errors.length === 0 && bodyMayHoldLargeEvent) {
    const bytes = eventBytes(e, propertiesJson);
    if (bytes > EVENT_LIMITS.maxEventBytes) {
      const problem = { field: path || 'body', message: `event is ${bytes} bytes; at most ${EVENT_LIMITS.maxEventBytes} are allowed` };
      return { ok: false, errors: [problem], tooLarge: true };
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    event: { input: e as unknown as EventInput, timestampMs: timestampMs!, propertiesJson, searchValues },
  };
}

/**
 * The event's size as JSON, without serializing it again: the properties' JSON (already made)
 * plus every other field's text and its key. Exact up to escaping in the short fields.
 */
function eventBytes(e: Record<string, unknown>, propertiesJson: string): number {
  let bytes = 2 + Buffer.byteLength(propertiesJson);
  for (const [key, value] of Object.entries(e)) {
    if (key === 'properties') {
      bytes += key.length + 4;
      continue;
    }
    bytes += key.length + 4;
    if (typeof value === 'string') bytes += Buffer.byteLength(value) + 2;
    else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) bytes += k.length + 6 + (typeof v === 'string' ? Buffer.byteLength(v) : 8);
    } else bytes += 16;
  }
  return bytes;
}

function requiredName(v: unknown, field: string, errors: FieldProblem[]): void {
  if (v === undefined || v === null) errors.push({ field, message: 'is required' });
  else if (typeof v !== 'string') errors.push({ field, message: 'must be a string' });
  else if (v.trim().length === 0) errors.push({ field, message: 'must not be empty' });
  else if (v.length > EVENT_LIMITS.maxNameLength)
    errors.push({ field, message: `must be at most ${EVENT_LIMITS.maxNameLength} characters` });
}

function parseTimestamp(v: unknown, ctx: ValidationContext, field: string, errors: FieldProblem[]): number | undefined {
  if (v === undefined || v === null) return ctx.now;
  let ms: number;
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) {
      errors.push({ field, message: 'must be an ISO 8601 string or epoch milliseconds' });
      return undefined;
    }
    ms = v;
  } else if (typeof v === 'string' && ISO_8601.test(v)) {
    ms = Date.parse(v);
    if (Number.isNaN(ms)) {
      errors.push({ field, message: `is not a valid date: "${v}"` });
      return undefined;
    }
  } else {
    errors.push({ field, message: 'must be an ISO 8601 string with a time zone, or epoch milliseconds' });
    return undefined;
  }
  if (ms > ctx.now + EVENT_LIMITS.maxFutureMs) {
    errors.push({ field, message: 'is more than 24 hours in the future' });
    return undefined;
  }
  const oldest = ctx.now - ctx.retentionDays * 24 * 60 * 60 * 1000;
  // Epoch seconds (10 digits until 2286) read as milliseconds fall in January 1970.
  if (typeof v === 'number' && ms < oldest && ms * 1000 >= oldest && ms * 1000 <= ctx.now + EVENT_LIMITS.maxFutureMs) {
    errors.push({ field, message: `must be epoch milliseconds; ${v} looks like epoch seconds (send ${v * 1000})` });
    return undefined;
  }
  if (ms < oldest) {
    // It would be deleted by the retention TTL at once: refuse it rather than accept and lose it.
    errors.push({ field, message: `is older than the retention period (${ctx.retentionDays} days)` });
    return undefined;
  }
  return ms;
}

/** What a walk over the properties collects: the key count, the searchable values, the problems. */
interface PropertyWalk {
  keys: number;
  values: string[];
  errors: FieldProblem[];
}

function checkProperties(obj: Record<string, unknown>, field: string, depth: number, walk: PropertyWalk): void {
  if (depth > EVENT_LIMITS.maxPropertyDepth) {
    walk.errors.push({ field, message: `nests deeper than ${EVENT_LIMITS.maxPropertyDepth} levels` });
    return;
  }
  for (const [key, value] of Object.entries(obj)) {
    walk.keys++;
    if (walk.keys > EVENT_LIMITS.maxPropertyKeys) return;
    if (key.length === 0 || key.length > EVENT_LIMITS.maxKeyLength) {
      walk.errors.push({ field, message: `key "${key.slice(0, 40)}" must be 1 to ${EVENT_LIMITS.maxKeyLength} characters` });
      continue;
    }
    collectValue(value, `${field}.${key}`, depth, walk);
  }
}

function collectValue(value: unknown, field: string, depth: number, walk: PropertyWalk): void {
  if (typeof value === 'string') walk.values.push(value.toLowerCase());
  else if (typeof value === 'number' || typeof value === 'boolean') walk.values.push(String(value));
  else if (Array.isArray(value)) {
    if (depth + 1 > EVENT_LIMITS.maxPropertyDepth) {
      walk.errors.push({ field, message: `nests deeper than ${EVENT_LIMITS.maxPropertyDepth} levels` });
      return;
    }
    for (const item of value) collectValue(item, field, depth + 1, walk);
  } else if (value !== null && typeof value === 'object') {
    checkProperties(value as Record<string, unknown>, field, depth + 1, walk);
  }
}

function checkContext(v: unknown, field: string, errors: FieldProblem[]): void {
  if (typeof v !== 'object' || Array.isArray(v)) {
    errors.push({ field, message: 'must be an object' });
    return;
  }
  const c = v as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (!CONTEXT_FIELDS.has(key)) errors.push({ field: `${field}.${key}`, message: 'is not a known context field (ip, userAgent, locale, page, geo)' });
  }
  if (c.ip !== undefined && c.ip !== null && (typeof c.ip !== 'string' || isIP(c.ip) === 0)) {
    errors.push({ field: `${field}.ip`, message: 'must be an IPv4 or IPv6 address' });
  }
  if (c.userAgent !== undefined && c.userAgent !== null) {
    if (typeof c.userAgent !== 'string') errors.push({ field: `${field}.userAgent`, message: 'must be a string' });
    else if (c.userAgent.length > EVENT_LIMITS.maxUserAgentLength)
      errors.push({ field: `${field}.userAgent`, message: `must be at most ${EVENT_LIMITS.maxUserAgentLength} characters` });
  }
  if (c.locale !== undefined && c.locale !== null) {
    if (typeof c.locale !== 'string' || c.locale.length > EVENT_LIMITS.maxLocaleLength)
      errors.push({ field: `${field}.locale`, message: `must be a string of at most ${EVENT_LIMITS.maxLocaleLength} characters` });
  }
  if (c.page !== undefined && c.page !== null) checkPage(c.page, `${field}.page`, errors);
  if (c.geo !== undefined && c.geo !== null) checkGeo(c.geo, `${field}.geo`, errors);
}

function checkGeo(v: unknown, field: string, errors: FieldProblem[]): void {
  if (typeof v !== 'object' || Array.isArray(v)) return void errors.push({ field, message: 'must be an object {country, region, city}' });
  for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
    if (!GEO_FIELDS.has(key)) errors.push({ field: `${field}.${key}`, message: 'is not a known geo field (country, region, city)' });
    else if (value !== undefined && value !== null && (typeof value !== 'string' || value.length > MAX_PLACE_LENGTH)) {
      errors.push({ field: `${field}.${key}`, message: `must be a string of at most ${MAX_PLACE_LENGTH} characters` });
    }
  }
}

function checkPage(v: unknown, field: string, errors: FieldProblem[]): void {
  if (typeof v !== 'object' || Array.isArray(v)) return void errors.push({ field, message: 'must be an object {url, referrer, title}' });
  for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
    const max = PAGE_FIELDS[key];
    if (max === undefined) errors.push({ field: `${field}.${key}`, message: 'is not a known page field (url, referrer, title)' });
    else if (value !== undefined && value !== null && (typeof value !== 'string' || value.length > max)) {
      errors.push({ field: `${field}.${key}`, message: `must be a string of at most ${max} characters` });
    }
  }
}
