import { createHash } from 'node:crypto';
import type { FieldProblem } from '../../common/api-error.js';
import type { EventInput, WireFieldNames } from '../../events/index.js';

/** The calls of Segment's HTTP Tracking API (each a route, and a `type` inside a batch). */
export const SEGMENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type SegmentType = (typeof SEGMENT_TYPES)[number];

/** Segment's limits: 32 KB per call and per event; a batch at most 500 KB and 2500 events. */
export const SEGMENT_LIMITS = {
  maxCallBytes: 32 * 1024,
  maxEventBytes: 32 * 1024,
  maxBatchBytes: 500 * 1024,
  maxBatchEvents: 2500,
} as const;

export interface DecodeOptions {
  /** When the request arrived, epoch ms (the `receivedAt` of the clock-skew correction). */
  receivedAt: number;
  /** Prefix of field names in errors (`batch[3]`); none for a single call. */
  at?: string;
  /** A batch's own `sentAt`, used by items without one. */
  batchSentAt?: unknown;
}

/**
 * One Segment message as canonical events: usually one; an identify with both ids adds an alias
 * event (so the anonymous id joins the profile), a group with a userId adds an identify event
 * (the membership in the profile).
 */
export type MessageResult = { ok: true; events: EventInput[]; messageId?: string } | { ok: false; errors: FieldProblem[]; messageId?: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Top-level fields of a message this source reads (or deliberately drops: `writeKey` is a secret). */
const COMMON_FIELDS = [
  'type',
  'userId',
  'anonymousId',
  'messageId',
  'timestamp',
  'originalTimestamp',
  'sentAt',
  'receivedAt',
  'context',
  'integrations',
  'writeKey',
  // Set by Segment's SDKs and its own pipeline; they say nothing about the event.
  'channel',
  'version',
  '_metadata',
];
const TYPE_FIELDS: Record<SegmentType, readonly string[]> = {
  track: ['event', 'properties'],
  identify: ['traits'],
  page: ['name', 'category', 'properties'],
  screen: ['name', 'category', 'properties'],
  group: ['groupId', 'traits'],
  alias: ['previousId'],
};

/** Context fields that are canonical columns; the rest of `context` is kept in the properties. */
const CANONICAL_CONTEXT = ['ip', 'userAgent', 'locale'];

/** Segment's trait names for the profile's own fields (camelCase and snake_case). */
const PROFILE_TRAITS: Record<'firstName' | 'lastName' | 'email' | 'avatar', readonly string[]> = {
  firstName: ['firstName', 'first_name'],
  lastName: ['lastName', 'last_name'],
  email: ['email'],
  avatar: ['avatar'],
};

const CAMPAIGN_TO_UTM: Record<string, string> = {
  source: 'utm_source',
  medium: 'utm_medium',
  name: 'utm_campaign',
  campaign: 'utm_campaign',
  term: 'utm_term',
  content: 'utm_content',
};
const MAX_URL = 2048;

/**
 * The canonical event id of a message: a name-based UUID (version 8, RFC 9562) from the
 * SHA-256 of its messageId, so a retried message has the same id and the ingest service's
 * dedup window stores it once. `part` tells apart the events one message becomes.
 */
export function eventIdOf(messageId: string, part = ''): string {
  const bytes = createHash('sha256').update(`segment\0${messageId}${part ? `\0${part}` : ''}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A batch item with the batch's `context` and `integrations`: the item's own keys win, and
 * `context` merges one level deep (the batch's `context.library` and the item's
 * `context.page` both survive; for `context.page` in both, the item's keys win).
 */
export function withBatchDefaults(item: unknown, batch: Record<string, unknown>): unknown {
  if (!isObject(item)) return item;
  const out = { ...item };
  for (const key of ['context', 'integrations'] as const) {
    const shared = batch[key];
    if (!isObject(shared)) continue;
    const own = item[key];
    if (own !== undefined && !isObject(own)) continue; // the item's (invalid) value is reported as is
    const merged: Record<string, unknown> = { ...shared };
    for (const [k, v] of Object.entries(own ?? {})) {
      merged[k] = key === 'context' && isObject(v) && isObject(shared[k]) ? { ...(shared[k] as Record<string, unknown>), ...v } : v;
    }
    out[key] = merged;
  }
  return out;
}

/** An id: a non-empty string, or a number (some SDKs send numeric user ids). */
function id(v: unknown, field: string, errors: FieldProblem[]): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  errors.push({ field, message: 'must be a string or a number' });
  return undefined;
}

function optionalString(v: unknown, field: string, errors: FieldProblem[]): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  errors.push({ field, message: 'must be a string' });
  return undefined;
}

function optionalObject(v: unknown, field: string, errors: FieldProblem[]): Record<string, unknown> | undefined {
  if (v === undefined || v === null) return undefined;
  if (isObject(v)) return v;
  errors.push({ field, message: 'must be an object' });
  return undefined;
}

/** A time as epoch ms: an ISO 8601 string or epoch milliseconds. */
function time(v: unknown, field: string, errors: FieldProblem[]): number | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(ms)) {
    errors.push({ field, message: 'must be an ISO 8601 date or epoch milliseconds' });
    return undefined;
  }
  return ms;
}

/**
 * The event time: an explicit `timestamp` wins; else `receivedAt - (sentAt - originalTimestamp)`
 * (the device's clock skew taken out) when both are given; else `originalTimestamp`; else none
 * (the ingest service takes the receive time). The result is checked by the ingest service.
 */
function eventTime(m: Record<string, unknown>, options: DecodeOptions, f: (n: string) => string, errors: FieldProblem[]): string | number | undefined {
  if (m.timestamp !== undefined && m.timestamp !== null) {
    if (typeof m.timestamp !== 'string' && typeof m.timestamp !== 'number') {
      errors.push({ field: f('timestamp'), message: 'must be an ISO 8601 date or epoch milliseconds' });
      return undefined;
    }
    return m.timestamp;
  }
  const original = time(m.originalTimestamp, f('originalTimestamp'), errors);
  const ownSentAt = m.sentAt !== undefined && m.sentAt !== null;
  const sentAt = ownSentAt ? time(m.sentAt, f('sentAt'), errors) : time(options.batchSentAt, 'sentAt', errors);
  if (original === undefined) return undefined;
  if (sentAt === undefined) return m.originalTimestamp as string | number;
  return Math.round(options.receivedAt - (sentAt - original));
}

/**
 * The page a call was made on, as the ingest service reads it (URL, referrer, title), from
 * `context.page` and, for page calls, the properties Segment's page calls carry (`url`, `path`,
 * `referrer`, `title`). `context.campaign` (Segment's UTM) is added to the URL's query where the
 * URL lacks it, so the UTM breakdowns see it (only a full URL carries a query the ingest
 * service reads; the campaign stays in the kept context either way).
 */
function pageOf(
  context: Record<string, unknown>,
  properties: Record<string, unknown> | undefined,
  isPageCall: boolean,
): { url?: string; referrer?: string; title?: string } | undefined {
  const page = isObject(context.page) ? context.page : {};
  const props = isPageCall && properties ? properties : {};
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  let url = str(props.url) ?? str(page.url) ?? str(props.path) ?? str(page.path);
  const referrer = str(props.referrer) ?? str(page.referrer);
  const title = str(props.title) ?? str(page.title);
  if (url === undefined && referrer === undefined && title === undefined) return undefined;
  if (url && isObject(context.campaign) && /^https?:\/\//i.test(url)) url = withCampaign(url, context.campaign);
  return { url, referrer, title };
}

function withCampaign(url: string, campaign: Record<string, unknown>): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  let changed = false;
  for (const [key, utm] of Object.entries(CAMPAIGN_TO_UTM)) {
    const v = campaign[key];
    if (typeof v === 'string' && v.length > 0 && !parsed.searchParams.has(utm)) {
      parsed.searchParams.set(utm, v);
      changed = true;
    }
  }
  const out = parsed.toString();
  return changed && out.length <= MAX_URL ? out : url;
}

/**
 * What the canonical event has no column for is kept in its properties, never dropped: the rest
 * of `context` (library, device, os, app, screen, timezone, traits, page, campaign, …) as
 * `context`, `integrations`, the `messageId`, and any top-level field this source does not know
 * under its own name. A name the sender's properties already use goes under `__segment` instead.
 */
function keepExtras(type: SegmentType, m: Record<string, unknown>, context: Record<string, unknown>, into: Record<string, unknown>): Record<string, unknown> {
  const extras: Record<string, unknown> = {};
  const restContext = Object.fromEntries(Object.entries(context).filter(([k]) => !CANONICAL_CONTEXT.includes(k)));
  if (Object.keys(restContext).length > 0) extras.context = restContext;
  if (isObject(m.integrations) && Object.keys(m.integrations).length > 0) extras.integrations = m.integrations;
  if (typeof m.messageId === 'string') extras.messageId = m.messageId;
  for (const [k, v] of Object.entries(m)) {
    if (v !== undefined && !COMMON_FIELDS.includes(k) && !TYPE_FIELDS[type].includes(k)) extras[k] = v;
  }
  const out = { ...into };
  const clashing: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extras)) {
    if (k in out) clashing[k] = v;
    else out[k] = v;
  }
  if (Object.keys(clashing).length > 0) out.__segment = clashing;
  return out;
}

/** The profile's fields from Segment's traits, and the other traits as profile properties. */
export function profileFromTraits(traits: Record<string, unknown>): { profile: Record<string, string>; properties: Record<string, unknown> } {
  const profile: Record<string, string> = {};
  const used = new Set<string>();
  for (const [field, names] of Object.entries(PROFILE_TRAITS)) {
    for (const name of names) {
      const v = traits[name];
      if (typeof v === 'string' && v.length > 0 && profile[field] === undefined) {
        profile[field] = v;
        used.add(name);
      }
    }
  }
  const properties = Object.fromEntries(Object.entries(traits).filter(([k]) => !used.has(k)));
  return { profile, properties };
}

/**
 * Decodes one Segment message into canonical events. `type` is the route's (a single call) or
 * the message's own `type` (a batch item, `type` undefined here). Errors name the message's
 * fields, prefixed with `options.at` (`batch[3].event`).
 */
export function decodeMessage(raw: unknown, routeType: SegmentType | undefined, options: DecodeOptions): MessageResult {
  const at = options.at ?? '';
  const f = (name: string) => (at ? `${at}.${name}` : name);
  if (!isObject(raw)) return { ok: false, errors: [{ field: at || 'body', message: 'must be a JSON object' }] };
  const m = raw;
  const messageId = typeof m.messageId === 'string' && m.messageId.length > 0 ? m.messageId : undefined;
  const fail = (errors: FieldProblem[]): MessageResult => ({ ok: false, errors, ...(messageId ? { messageId } : {}) });
  const type = routeType ?? m.type;
  if (typeof type !== 'string' || !(SEGMENT_TYPES as readonly string[]).includes(type)) {
    return fail([{ field: f('type'), message: `must be one of ${SEGMENT_TYPES.join(', ')}` }]);
  }
  const t = type as SegmentType;
  const errors: FieldProblem[] = [];
  if (m.messageId !== undefined && m.messageId !== null && typeof m.messageId !== 'string') {
    errors.push({ field: f('messageId'), message: 'must be a string' });
  }
  const userId = id(m.userId, f('userId'), errors);
  const anonymousId = id(m.anonymousId, f('anonymousId'), errors);
  if (userId === undefined && anonymousId === undefined && !errors.some((e) => e.field === f('userId') || e.field === f('anonymousId'))) {
    errors.push({ field: f('userId'), message: 'is required when there is no anonymousId (every call needs userId or anonymousId)' });
  }
  const context = optionalObject(m.context, f('context'), errors) ?? {};
  optionalObject(m.integrations, f('integrations'), errors);
  const timestamp = eventTime(m, options, f, errors);
  const canonicalContext: NonNullable<EventInput['context']> = {};
  if (context.ip !== undefined) canonicalContext.ip = optionalString(context.ip, f('context.ip'), errors);
  if (context.userAgent !== undefined) canonicalContext.userAgent = optionalString(context.userAgent, f('context.userAgent'), errors);
  if (context.locale !== undefined) canonicalContext.locale = optionalString(context.locale, f('context.locale'), errors);
  if (context.page !== undefined && context.page !== null && !isObject(context.page)) errors.push({ field: f('context.page'), message: 'must be an object' });
  // Segment has no sessions; a session id some senders add in context or properties is used.
  const sessionHint = (isObject(m.properties) ? m.properties.sessionId : undefined) ?? context.sessionId;
  const sessionId = typeof sessionHint === 'string' || typeof sessionHint === 'number' ? String(sessionHint) : undefined;

  const base = (part = ''): Pick<EventInput, 'eventId' | 'timestamp' | 'userId' | 'anonymousId' | 'sessionId'> => ({
    ...(messageId ? { eventId: eventIdOf(messageId, part) } : {}),
    ...(timestamp !== undefined ? { timestamp } : {}),
    ...(userId !== undefined ? { userId } : {}),
    ...(anonymousId !== undefined ? { anonymousId } : {}),
    ...(sessionId !== undefined ? { sessionId } : {}),
  });
  const withContext = (event: EventInput, page?: ReturnType<typeof pageOf>): EventInput => {
    const c = { ...canonicalContext, ...(page ? { page } : {}) };
    for (const k of Object.keys(c) as (keyof typeof c)[]) if (c[k] === undefined) delete c[k];
    return Object.keys(c).length > 0 ? { ...event, context: c } : event;
  };

  const events: EventInput[] = [];
  switch (t) {
    case 'track': {
      const name = m.event;
      if (typeof name !== 'string' || name.trim().length === 0) errors.push({ field: f('event'), message: 'is required (the event’s name, a string)' });
      const properties = optionalObject(m.properties, f('properties'), errors) ?? {};
      events.push(withContext({ ...base(), eventType: 'track', eventName: name as string, properties: keepExtras(t, m, context, properties) }, pageOf(context, undefined, false)));
      break;
    }
    case 'page':
    case 'screen': {
      const properties = optionalObject(m.properties, f('properties'), errors) ?? {};
      const name = optionalString(m.name, f('name'), errors);
      const category = optionalString(m.category, f('category'), errors);
      const props = { ...properties, ...(name !== undefined ? { name } : {}), ...(category !== undefined ? { category } : {}) };
      events.push(
        withContext(
          { ...base(), eventType: 'track', eventName: t === 'page' ? 'page_view' : 'screen_view', properties: keepExtras(t, m, context, props) },
          pageOf(context, properties, true),
        ),
      );
      break;
    }
    case 'identify': {
      const traits = optionalObject(m.traits, f('traits'), errors) ?? {};
      const { profile, properties } = profileFromTraits(traits);
      events.push(withContext({ ...base(), eventType: 'identify', eventName: 'identify', properties: keepExtras(t, m, context, { profile, properties }) }));
      // The anonymous history joins the profile: the same link an alias call makes.
      if (userId !== undefined && anonymousId !== undefined && userId !== anonymousId) {
        events.push(withContext({ ...base('alias'), eventType: 'alias', eventName: 'alias', properties: { alias: anonymousId, via: 'identify' } }));
      }
      break;
    }
    case 'alias': {
      const previousId = id(m.previousId, f('previousId'), errors);
      if (previousId === undefined && !errors.some((e) => e.field === f('previousId'))) errors.push({ field: f('previousId'), message: 'is required' });
      if (userId === undefined && !errors.some((e) => e.field === f('userId'))) errors.push({ field: f('userId'), message: 'is required' });
      events.push(withContext({ ...base(), eventType: 'alias', eventName: 'alias', properties: keepExtras(t, m, context, { alias: previousId }) }));
      break;
    }
    case 'group': {
      const groupId = id(m.groupId, f('groupId'), errors);
      if (groupId === undefined && !errors.some((e) => e.field === f('groupId'))) errors.push({ field: f('groupId'), message: 'is required' });
      const traits = optionalObject(m.traits, f('traits'), errors) ?? {};
      events.push(withContext({ ...base(), eventType: 'group', eventName: 'group', properties: keepExtras(t, m, context, { groupId, traits }) }));
      // The membership in the user's profile: the latest group and its traits (every group call
      // stays stored as a `group` event).
      if (userId !== undefined) {
        events.push(
          withContext({ ...base('group-membership'), eventType: 'identify', eventName: 'identify', properties: { profile: {}, properties: { groupId, group: traits } } }),
        );
      }
      break;
    }
  }
  if (errors.length > 0) return fail(errors);
  return { ok: true, events, ...(messageId ? { messageId } : {}) };
}

/** Where the canonical fields sit in a Segment message: the ingest service's errors name these. */
export const SEGMENT_FIELD_NAMES: WireFieldNames = {
  eventId: 'messageId',
  eventName: 'event',
  userId: 'userId',
  anonymousId: 'anonymousId',
  timestamp: 'timestamp',
  properties: 'properties',
};
