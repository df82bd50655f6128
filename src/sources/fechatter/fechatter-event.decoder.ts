import protobuf from 'protobufjs';
import type { FieldProblem } from '../../common/api-error.js';
import type { EventInput, WireFieldNames } from '../../events/index.js';
import { AnalyticsEventType, BatchRecordEventsRequestType, EventContextType, FECHATTER_EVENT_FAMILY, FECHATTER_EVENT_NAMES, TO_OBJECT } from './fechatter-proto.js';

/** EventContext with every field present (proto3 defaults), int64 as decimal strings. */
export interface FechatterContext {
  client_id: string;
  session_id: string;
  user_id: string;
  app_version: string;
  client_ts: string;
  server_ts: string;
  user_agent: string;
  ip: string;
  system: Record<'os' | 'arch' | 'locale' | 'timezone' | 'browser' | 'browser_version', string> | null;
  geo: Record<'country' | 'region' | 'city', string> | null;
}

/** One decoded AnalyticsEvent, the same whether it came as protobuf or as JSON. */
export interface FechatterEvent {
  /** The oneof member: Fechatter's event name (`message_sent`). */
  name: string;
  context: FechatterContext;
  /** The member's fields, defaults included; enums by name, 64-bit integers as decimal strings. */
  fields: Record<string, unknown>;
  /** The event's protobuf encoding: the same bytes for the same event in either form. */
  encoded: Uint8Array;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; errors: FieldProblem[] };
/** A batch decodes as a whole (protobuf) or not; each event in it may still lack an event type. */
export type DecodedBatch = { ok: true; items: Decoded<FechatterEvent>[] } | { ok: false; errors: FieldProblem[] };

const NAMES = new Set(FECHATTER_EVENT_NAMES);
/** The context of an event that has none: every field at its default. */
const EMPTY_CONTEXT = EventContextType.toObject(EventContextType.create({}), TO_OBJECT);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const join = (at: string, name: string) => (at ? `${at}.${name}` : name);

/** One raw protobuf AnalyticsEvent (POST /api/event, a NATS message). */
export function decodeEventBytes(bytes: Uint8Array, at = 'body'): Decoded<FechatterEvent> {
  let message: protobuf.Message;
  try {
    message = AnalyticsEventType.decode(bytes);
  } catch (err) {
    return { ok: false, errors: [{ field: at, message: `is not a protobuf fechatter.v1.AnalyticsEvent (${wireProblem(err)})` }] };
  }
  return fromMessage(message, at);
}

/** One raw protobuf BatchRecordEventsRequest (POST /api/batch, `fechatter.analytics.batch`). */
export function decodeBatchBytes(bytes: Uint8Array, at = 'body'): DecodedBatch {
  let batch: protobuf.Message & { events?: protobuf.Message[] };
  try {
    batch = BatchRecordEventsRequestType.decode(bytes) as typeof batch;
  } catch (err) {
    return { ok: false, errors: [{ field: at, message: `is not a protobuf fechatter.v1.BatchRecordEventsRequest (${wireProblem(err)})` }] };
  }
  return { ok: true, items: (batch.events ?? []).map((m, i) => fromMessage(m, `events[${i}]`)) };
}

/** `{"context": {...}, "event_type": {"<name>": {...}}}` (POST /api/event/json). */
export function eventFromJson(raw: unknown, at = ''): Decoded<FechatterEvent> {
  const errors: FieldProblem[] = [];
  if (!isObject(raw)) return { ok: false, errors: [{ field: at || 'body', message: 'must be an object {"context", "event_type": {"<event name>": {...}}}' }] };
  const { context, event_type: eventType, ...rest } = raw;
  // The member may also sit at the top level, as protobuf's canonical JSON mapping has it.
  const members = isObject(eventType) ? eventType : Object.fromEntries(Object.entries(rest).filter(([k]) => NAMES.has(k)));
  const memberAt = isObject(eventType) ? join(at, 'event_type') : at;
  for (const key of Object.keys(rest)) {
    if (!NAMES.has(key) || isObject(eventType)) errors.push({ field: join(at, key), message: 'is not a field of AnalyticsEvent (context, event_type)' });
  }
  if (eventType !== undefined && !isObject(eventType)) errors.push({ field: join(at, 'event_type'), message: `must be an object with one of ${FECHATTER_EVENT_NAMES.join(', ')}` });
  const names = Object.keys(members);
  if (names.length !== 1) {
    errors.push({
      field: join(at, 'event_type'),
      message: names.length === 0 ? `is required: an object with one of ${FECHATTER_EVENT_NAMES.join(', ')}` : `must hold exactly one event, not ${names.join(', ')}`,
    });
  }
  const name = names[0];
  if (name !== undefined && !NAMES.has(name)) {
    errors.push({ field: join(memberAt, name), message: `is not a Fechatter event type (one of ${FECHATTER_EVENT_NAMES.join(', ')})` });
  }
  if (context !== undefined && context !== null) checkJson(AnalyticsEventType.fields['context']!.resolvedType as protobuf.Type, context, join(at, 'context'), errors);
  if (name !== undefined && NAMES.has(name)) {
    const value = members[name] ?? {};
    checkJson(AnalyticsEventType.fields[name]!.resolvedType as protobuf.Type, value, join(memberAt, name), errors);
  }
  if (errors.length > 0) return { ok: false, errors };
  const message = AnalyticsEventType.fromObject({ context: context ?? {}, [name!]: members[name!] ?? {} });
  return fromMessage(message, at);
}

/** `{"events": [...]}` (POST /api/batch/json): each event decodes on its own. */
export function batchFromJson(raw: unknown): DecodedBatch {
  if (!isObject(raw) || !Array.isArray(raw.events)) return { ok: false, errors: [{ field: 'events', message: 'is required: an array of events' }] };
  return { ok: true, items: raw.events.map((e, i) => eventFromJson(e, `events[${i}]`)) };
}

function fromMessage(message: protobuf.Message, at: string): Decoded<FechatterEvent> {
  const plain = AnalyticsEventType.toObject(message, TO_OBJECT) as Record<string, unknown>;
  const name = plain.event_type;
  if (typeof name !== 'string' || !NAMES.has(name)) {
    return { ok: false, errors: [{ field: join(at === 'body' ? '' : at, 'event_type') || 'event_type', message: `is missing: the event is none of ${FECHATTER_EVENT_NAMES.join(', ')}` }] };
  }
  const context = (plain.context ?? EMPTY_CONTEXT) as FechatterContext;
  return {
    ok: true,
    value: { name, context, fields: (plain[name] ?? {}) as Record<string, unknown>, encoded: AnalyticsEventType.encode(message).finish() },
  };
}

/** What protobufjs says about bytes it cannot read, in words a sender can act on. */
function wireProblem(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  if (/index out of range/.test(text)) return 'truncated: a field runs past the end of the body';
  if (/invalid wire type/.test(text)) return `malformed: ${text}`;
  return text;
}

const INT_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/** Checks a JSON value against a message type, naming each bad field; fromObject would coerce silently. */
function checkJson(type: protobuf.Type, value: unknown, at: string, errors: FieldProblem[]): void {
  if (!isObject(value)) return void errors.push({ field: at, message: `must be an object (${type.name})` });
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key];
    const here = `${at}.${key}`;
    if (!field) {
      errors.push({ field: here, message: `is not a field of ${type.name} (${type.fieldsArray.map((f) => f.name).join(', ') || 'it has none'})` });
      continue;
    }
    if (v === null || v === undefined) continue;
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) checkJson(resolved, v, here, errors);
    else if (resolved instanceof protobuf.Enum) {
      const ok = (typeof v === 'string' && Object.hasOwn(resolved.values, v)) || (typeof v === 'number' && Object.values(resolved.values).includes(v));
      if (!ok) errors.push({ field: here, message: `must be one of ${Object.keys(resolved.values).join(', ')}` });
    } else if (field.type === 'string') {
      if (typeof v !== 'string') errors.push({ field: here, message: 'must be a string' });
    } else if (field.type === 'bool') {
      if (typeof v !== 'boolean') errors.push({ field: here, message: 'must be true or false' });
    } else if (field.type in INT_RANGES) {
      const [min, max] = INT_RANGES[field.type]!;
      const n = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : typeof v === 'string' && /^-?\d{1,20}$/.test(v) ? BigInt(v) : null;
      if (n === null || n < min || n > max) errors.push({ field: here, message: `must be an integer (${field.type}, ${min} to ${max})${field.type.endsWith('64') ? ', a number or a decimal string' : ''}` });
    }
  }
}

/** Where the canonical fields came from in Fechatter's event: the ingest service's errors name these. */
export const FECHATTER_FIELD_NAMES: WireFieldNames = {
  eventName: 'event_type',
  userId: 'context.user_id',
  anonymousId: 'context.client_id',
  sessionId: 'context.session_id',
  timestamp: 'context.client_ts',
  properties: 'event_type',
};

/** What the transport adds to an event: the session, a stable id, and where the user is. */
export interface EventEnvelope {
  receivedAt: number;
  sessionId: string | undefined;
  eventId: string | undefined;
  /** The client's IP by the transport's rules (HTTP headers), else the context's. */
  ip?: string;
  /** CDN headers' place, over the context's geo. */
  geo?: { country?: string; region?: string; city?: string };
}

/**
 * The canonical event: eventType is the family, eventName the member, the member's fields are
 * properties with their types (64-bit integers as numbers where exact, else decimal strings), and
 * the context keeps the client (anonymousId), user, app version, system, place and timestamps.
 */
export function toEventInput(event: FechatterEvent, envelope: EventEnvelope): EventInput {
  const c = event.context;
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event.fields)) properties[key] = typeof value === 'string' && isLongField(event.name, key) ? exactNumber(value) : value;
  if (c.app_version) properties.app_version = c.app_version;
  const system = nonEmpty(c.system);
  if (system) properties.system = system;
  const clientTs = Number(c.client_ts);
  const ip = envelope.ip ?? (c.ip || undefined);
  const geo = envelope.geo ?? nonEmpty(c.geo);
  return {
    ...(envelope.eventId ? { eventId: envelope.eventId } : {}),
    eventType: FECHATTER_EVENT_FAMILY[event.name]!,
    eventName: event.name,
    timestamp: clientTs > 0 ? clientTs : envelope.receivedAt,
    ...(envelope.sessionId ? { sessionId: envelope.sessionId } : {}),
    ...(c.user_id ? { userId: c.user_id } : {}),
    ...(c.client_id ? { anonymousId: c.client_id } : {}),
    properties,
    context: {
      ...(ip ? { ip } : {}),
      // The event's own agent, even when empty: the sending service's HTTP library is not the user's.
      userAgent: c.user_agent,
      ...(system?.locale ? { locale: system.locale } : {}),
      ...(geo ? { geo } : {}),
    },
  };
}

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function isLongField(eventName: string, key: string): boolean {
  const type = AnalyticsEventType.fields[eventName]?.resolvedType as protobuf.Type | undefined;
  const field = type?.fields[key];
  return field !== undefined && LONG_TYPES.has(field.type);
}

/** A 64-bit integer as a JSON number when it is exact as one, else its decimal string. */
function exactNumber(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

function nonEmpty<T extends Record<string, string>>(o: T | null | undefined): Partial<T> | undefined {
  if (!o) return undefined;
  const out: Partial<T> = {};
  let any = false;
  for (const [k, v] of Object.entries(o)) {
    if (v) {
      (out as Record<string, string>)[k] = v;
      any = true;
    }
  }
  return any ? out : undefined;
}
