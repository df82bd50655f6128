import type { FieldProblem } from '../../common/api-error.js';
import type { EventInput, WireFieldNames } from '../../events/index.js';

/** Envelope types of the OpenPanel / Event Lens track API that this service stores. */
export const ENVELOPE_TYPES = ['track', 'identify', 'increment', 'decrement', 'alias'] as const;
export type EnvelopeType = (typeof ENVELOPE_TYPES)[number];

/** Properties the SDKs reserve: they set the event's own fields, not properties. */
const RESERVED = ['__timestamp', '__ip', '__deviceId', '__path', '__referrer', '__title', '__identify'] as const;

export interface DecodedEnvelope {
  type: EnvelopeType;
  /**
   * The canonical event, without anonymousId when the sender gave no device id (the ingest
   * service's cookieless step gives track events one). The client's IP from `__ip`, which
   * overrides the request's, is its `context.ip`.
   */
  event: EventInput;
}

export type EnvelopeResult = { ok: true; envelope: DecodedEnvelope } | { ok: false; errors: FieldProblem[] };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The payload fields each envelope type reads; any other field is kept (see `keepUnknown`). */
const KNOWN_FIELDS: Record<EnvelopeType, readonly string[]> = {
  track: ['name', 'properties', 'profileId', 'deviceId', 'sessionId', 'path'],
  identify: ['profileId', 'firstName', 'lastName', 'email', 'avatar', 'properties'],
  increment: ['profileId', 'property', 'value'],
  decrement: ['profileId', 'property', 'value'],
  alias: ['profileId', 'alias'],
};

/**
 * Payload fields this service does not read are kept as properties, never dropped: OpenPanel's
 * SDKs send fields we may not know (`groups`, newer ones), and a typo in an optional field
 * (`profileID`) stays visible in the stored event instead of vanishing. A field whose name a
 * property already has goes under `__payload` instead of overwriting it. (The Events API, whose
 * senders write their events by hand, refuses unknown fields so a typo is reported at once.)
 */
function keepUnknown(type: EnvelopeType, payload: Record<string, unknown>, into: Record<string, unknown>): Record<string, unknown> {
  const unknown = Object.keys(payload).filter((k) => !KNOWN_FIELDS[type].includes(k) && payload[k] !== undefined);
  if (unknown.length === 0) return into;
  const out = { ...into };
  const clashing: Record<string, unknown> = {};
  for (const k of unknown) {
    if (k in out) clashing[k] = payload[k];
    else out[k] = payload[k];
  }
  if (Object.keys(clashing).length > 0) out.__payload = clashing;
  return out;
}

/** A profile id: a non-empty string, or a number (the SDKs allow both). */
function profileId(v: unknown, field: string, errors: FieldProblem[], required: boolean): string | undefined {
  if (v === undefined || v === null || v === '') {
    if (required) errors.push({ field, message: 'is required' });
    return undefined;
  }
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string') return v;
  errors.push({ field, message: 'must be a string or a number' });
  return undefined;
}

function optionalString(v: unknown, field: string, errors: FieldProblem[]): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  errors.push({ field, message: 'must be a string' });
  return undefined;
}

/**
 * Decodes one `{type, payload}` envelope into the canonical event. Every type becomes an event of
 * that `eventType` (track events keep their name), so identify, increment, decrement and alias
 * are stored durably like any event; profiles are derived from them. `at` prefixes field names
 * in errors (`events[3]`).
 */
export function decodeEnvelope(raw: unknown, at = ''): EnvelopeResult {
  const f = (name: string) => (at ? `${at}.${name}` : name);
  if (!isObject(raw)) return { ok: false, errors: [{ field: at || 'body', message: 'must be an object {"type", "payload"}' }] };
  const type = raw.type;
  if (typeof type !== 'string' || !(ENVELOPE_TYPES as readonly string[]).includes(type)) {
    return { ok: false, errors: [{ field: f('type'), message: `must be one of ${ENVELOPE_TYPES.join(', ')}` }] };
  }
  const p = raw.payload;
  if (!isObject(p)) return { ok: false, errors: [{ field: f('payload'), message: 'must be an object' }] };
  const errors: FieldProblem[] = [];
  const field = (name: string) => f(`payload.${name}`);
  let event: EventInput;
  switch (type as EnvelopeType) {
    case 'track': {
      const name = p.name;
      if (typeof name !== 'string' || name.length === 0) {
        const unknown = Object.keys(p).filter((k) => !KNOWN_FIELDS.track.includes(k));
        const hint = unknown.length > 0 ? `; the payload has fields this API does not know: ${unknown.slice(0, 5).join(', ')}` : '';
        errors.push({ field: field('name'), message: `is required (a string)${hint}` });
      }
      if (p.properties !== undefined && !isObject(p.properties)) errors.push({ field: field('properties'), message: 'must be an object' });
      const props: Record<string, unknown> = { ...(isObject(p.properties) ? p.properties : {}) };
      const reserved = Object.fromEntries(RESERVED.map((k) => [k, props[k]]));
      for (const k of RESERVED) delete props[k];
      // The web SDK sends the page's URL as __path and document.referrer as __referrer.
      const url = optionalString(p.path ?? reserved.__path, field('path'), errors);
      const referrer = optionalString(reserved.__referrer, field('properties.__referrer'), errors);
      const title = optionalString(reserved.__title ?? (typeof props.title === 'string' ? props.title : undefined), field('properties.__title'), errors);
      const ip = optionalString(reserved.__ip, field('properties.__ip'), errors);
      const timestamp = reserved.__timestamp;
      if (timestamp !== undefined && typeof timestamp !== 'string' && typeof timestamp !== 'number') {
        errors.push({ field: field('properties.__timestamp'), message: 'must be an ISO 8601 date or epoch milliseconds' });
      }
      event = {
        eventType: 'track',
        eventName: name as string,
        timestamp: timestamp as string | number | undefined,
        userId: profileId(p.profileId, field('profileId'), errors, false),
        anonymousId: optionalString(p.deviceId ?? reserved.__deviceId, field('deviceId'), errors),
        sessionId: optionalString(p.sessionId, field('sessionId'), errors),
        properties: keepUnknown('track', p, props),
        ...(url !== undefined || referrer !== undefined || title !== undefined ? { context: { page: { url, referrer, title } } } : {}),
      };
      if (ip) event.context = { ...event.context, ip };
      break;
    }
    case 'identify': {
      if (p.properties !== undefined && !isObject(p.properties)) errors.push({ field: field('properties'), message: 'must be an object' });
      const profile: Record<string, unknown> = {};
      for (const k of ['firstName', 'lastName', 'email', 'avatar']) {
        const v = optionalString(p[k], field(k), errors);
        if (v !== undefined) profile[k] = v;
      }
      event = {
        eventType: 'identify',
        eventName: 'identify',
        userId: profileId(p.profileId, field('profileId'), errors, true),
        properties: { profile, properties: keepUnknown('identify', p, isObject(p.properties) ? p.properties : {}) },
      };
      break;
    }
    case 'increment':
    case 'decrement': {
      const property = p.property;
      if (typeof property !== 'string' || property.length === 0) errors.push({ field: field('property'), message: 'is required (a dotted property path)' });
      const value = p.value ?? 1;
      if (typeof value !== 'number' || !Number.isFinite(value)) errors.push({ field: field('value'), message: 'must be a number' });
      event = {
        eventType: type,
        eventName: type,
        userId: profileId(p.profileId, field('profileId'), errors, true),
        properties: keepUnknown(type as EnvelopeType, p, { property, value }),
      };
      break;
    }
    case 'alias': {
      const alias = profileId(p.alias, field('alias'), errors, true);
      event = {
        eventType: 'alias',
        eventName: 'alias',
        userId: profileId(p.profileId, field('profileId'), errors, true),
        properties: keepUnknown('alias', p, { alias }),
      };
      break;
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, envelope: { type: type as EnvelopeType, event: event! } };
}

/** Where the canonical fields sit in a track envelope: the ingest service's errors name these. */
export const OPENPANEL_FIELD_NAMES: WireFieldNames = {
  eventName: 'payload.name',
  userId: 'payload.profileId',
  anonymousId: 'payload.deviceId',
  sessionId: 'payload.sessionId',
  timestamp: 'payload.properties.__timestamp',
  properties: 'payload.properties',
};
