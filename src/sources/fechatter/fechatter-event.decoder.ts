import protobuf from 'protobufjs';
import type { FieldProblem } from '../../common/api-error.js';
import type { EventInput, WireFieldNames } from '../../events/index.js';
import { AnalyticsEventType, EventContextType, FECHATTER_EVENT_FAMILY, FECHATTER_EVENT_NAMES } from './fechatter-proto.js';

/** EventContext with every field present (proto3 defaults), int64 as decimal strings. */
export interface FechatterContext {
  client_id: string;
  session_id: string;
  user_id: string;
  app_version: string;
  /** epoch ms (a decimal string only beyond 2^53, which no clock sends) */
  client_ts: number | string;
  server_ts: number | string;
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
  /** The member's fields, defaults included; enums by name, 64-bit integers as numbers where exact, else decimal strings. */
  fields: Record<string, unknown>;
  /**
   * The event's protobuf bytes: as received (a retry sends the same bytes), or protobufjs's
   * encoding of a JSON event (the same JSON, the same bytes). The event's identity.
   */
  encoded: Uint8Array;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; errors: FieldProblem[] };
/** A batch decodes as a whole (protobuf) or not; each event in it may still lack an event type. */
export type DecodedBatch = { ok: true; items: Decoded<FechatterEvent>[] } | { ok: false; errors: FieldProblem[] };

const NAMES = new Set(FECHATTER_EVENT_NAMES);
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
  return fromMessage(message, at, bytes);
}

/**
 * One raw protobuf BatchRecordEventsRequest (POST /api/batch, a NATS `.batch` message). Its only
 * field is `repeated AnalyticsEvent events = 1`, so it is split into each event's own bytes here
 * (each event is decoded, and identified, by its bytes); any other field is skipped as protobuf
 * skips unknown fields.
 */
export function decodeBatchBytes(bytes: Uint8Array, at = 'body'): DecodedBatch {
  const slices: Uint8Array[] = [];
  try {
    const reader = protobuf.Reader.create(bytes);
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag === BATCH_EVENTS_TAG) {
        const length = reader.uint32();
        const start = reader.pos;
        reader.skip(length);
        slices.push(bytes.subarray(start, start + length));
      } else reader.skipType(tag & 7);
    }
  } catch (err) {
    return { ok: false, errors: [{ field: at, message: `is not a protobuf fechatter.v1.BatchRecordEventsRequest (${wireProblem(err)})` }] };
  }
  return { ok: true, items: slices.map((slice, i) => decodeEventBytes(slice, `events[${i}]`)) };
}

/** Field 1, wire type 2 (length-delimited): `events` of BatchRecordEventsRequest. */
const BATCH_EVENTS_TAG = (1 << 3) | 2;

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

function fromMessage(message: protobuf.Message, at: string, bytes?: Uint8Array): Decoded<FechatterEvent> {
  const m = message as unknown as Record<string, unknown>;
  // The oneof's virtual field names the member that is set.
  const name = m.event_type;
  if (typeof name !== 'string' || !NAMES.has(name)) {
    return { ok: false, errors: [{ field: join(at === 'body' ? '' : at, 'event_type') || 'event_type', message: `is missing: the event is none of ${FECHATTER_EVENT_NAMES.join(', ')}` }] };
  }
  const context = (m.context ? plainOf(EventContextType, m.context as protobuf.Message) : EMPTY_CONTEXT) as unknown as FechatterContext;
  const memberType = AnalyticsEventType.fields[name]!.resolvedType as protobuf.Type;
  return {
    ok: true,
    value: { name, context, fields: plainOf(memberType, m[name] as protobuf.Message), encoded: bytes ?? AnalyticsEventType.encode(message).finish() },
  };
}

type FieldReader = [name: string, read: (m: Record<string, unknown>) => unknown];
const READERS = new Map<protobuf.Type, FieldReader[]>();
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/**
 * A message's fields as plain values, defaults included (a decoded message reads absent fields
 * from its prototype): enums by name, 64-bit integers exact, nested messages the same way (null
 * when absent). Read field by field with readers made once per type: protobufjs's toObject
 * with `longs: String` formats every int64 (each client timestamp) through Long's division loop,
 * which cost more than the decoding.
 */
function plainOf(type: protobuf.Type, message: protobuf.Message): Record<string, unknown> {
  let readers = READERS.get(type);
  if (!readers) {
    readers = type.fieldsArray.map((field): FieldReader => {
      const { name } = field;
      const resolved = field.resolvedType;
      if (resolved instanceof protobuf.Type) return [name, (m) => (m[name] ? plainOf(resolved, m[name] as protobuf.Message) : null)];
      if (resolved instanceof protobuf.Enum) return [name, (m) => resolved.valuesById[m[name] as number] ?? m[name]];
      if (LONG_TYPES.has(field.type)) return [name, (m) => exactLong(m[name])];
      return [name, (m) => m[name]];
    });
    READERS.set(type, readers);
  }
  const out: Record<string, unknown> = {};
  const m = message as unknown as Record<string, unknown>;
  for (const [name, read] of readers) out[name] = read(m);
  return out;
}

const TWO_32 = 4_294_967_296;

/** The context of an event that has none: every field at its default. */
const EMPTY_CONTEXT = plainOf(EventContextType, EventContextType.create({}));

/** A 64-bit integer (protobufjs's Long, a number, or a decimal string) as a number when exact, else its decimal string. */
function exactLong(v: unknown): number | string {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return exactNumber(v);
  const long = v as { low: number; high: number; unsigned: boolean; toString(): string };
  const high = long.unsigned ? long.high >>> 0 : long.high;
  const n = high * TWO_32 + (long.low >>> 0);
  return Number.isSafeInteger(n) ? n : long.toString();
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
  // The decoded fields are this event's own object: they become its properties as they are.
  const properties = event.fields;
  if (c.app_version) properties.app_version = c.app_version;
  const system = nonEmpty(c.system);
  if (system) properties.system = system;
  const clientTs = Number(c.client_ts);
  const ip = envelope.ip ?? (c.ip || undefined);
  const geo = envelope.geo ?? nonEmpty(c.geo);
  // Assigned field by field, not spread: this runs for every event, and spreading small
  // conditional objects cost as much as decoding the event.
  const context: NonNullable<EventInput['context']> = {
    // The event's own agent, even when empty: the sending service's HTTP library is not the user's.
    userAgent: c.user_agent,
  };
  if (ip) context.ip = ip;
  if (system?.locale) context.locale = system.locale;
  if (geo) context.geo = geo;
  const input: EventInput = {
    eventType: FECHATTER_EVENT_FAMILY[event.name]!,
    eventName: event.name,
    timestamp: clientTs > 0 ? clientTs : envelope.receivedAt,
    properties,
    context,
  };
  if (envelope.eventId) input.eventId = envelope.eventId;
  if (envelope.sessionId) input.sessionId = envelope.sessionId;
  if (c.user_id) input.userId = c.user_id;
  if (c.client_id) input.anonymousId = c.client_id;
  return input;
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
