import type { ClientMessage, EventsFilter } from './live-protocol.js';

export type Parsed = { ok: true; message: ClientMessage } | { ok: false; code: string; message: string; subscription?: string };

const ID = /^[A-Za-z0-9_.:-]{1,64}$/;

const bad = (message: string, subscription?: string): Parsed => ({ ok: false, code: 'bad_message', message, ...(subscription ? { subscription } : {}) });

function whole(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** Checks a client's message; what is wrong is said in an `error` message, the socket stays open. */
export function parseClientMessage(raw: string): Parsed {
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch {
    return bad('a message must be a JSON object with a "type"');
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return bad('a message must be a JSON object with a "type"');
  const o = m as Record<string, unknown>;
  if (o.type === 'ping') return { ok: true, message: { type: 'ping' } };
  if (o.type === 'unsubscribe') {
    if (typeof o.id !== 'string' || !ID.test(o.id)) return bad('unsubscribe needs the "id" of a subscription');
    return { ok: true, message: { type: 'unsubscribe', id: o.id } };
  }
  if (o.type !== 'subscribe') {
    return { ok: false, code: 'unknown_type', message: `unknown message type ${JSON.stringify(o.type)}: send subscribe, unsubscribe or ping` };
  }
  if (typeof o.id !== 'string' || !ID.test(o.id)) return bad('subscribe needs an "id": 1 to 64 letters, digits, _ . : or -');
  const id = o.id;
  switch (o.topic) {
    case 'events': {
      if (o.maxPerSecond !== undefined && !whole(o.maxPerSecond, 1, 1000)) return bad('maxPerSecond must be a whole number from 1 to 1000', id);
      const filter = parseFilter(o.filter);
      if (typeof filter === 'string') return bad(filter, id);
      return { ok: true, message: { type: 'subscribe', id, topic: 'events', filter, maxPerSecond: (o.maxPerSecond as number | undefined) ?? 100 } };
    }
    case 'counters':
      if (o.top !== undefined && !whole(o.top, 1, 50)) return bad('top must be a whole number from 1 to 50', id);
      return { ok: true, message: { type: 'subscribe', id, topic: 'counters', top: (o.top as number | undefined) ?? 10 } };
    case 'metric':
      if (typeof o.metricId !== 'string' || o.metricId.length === 0 || o.metricId.length > 200) return bad('metricId must be a custom metric id', id);
      if (o.points !== undefined && !whole(o.points, 1, 120)) return bad('points must be a whole number from 1 to 120', id);
      return { ok: true, message: { type: 'subscribe', id, topic: 'metric', metricId: o.metricId, points: (o.points as number | undefined) ?? 30 } };
    default:
      return bad(`unknown topic ${JSON.stringify(o.topic)}: events, counters or metric`, id);
  }
}

function parseFilter(raw: unknown): EventsFilter | string {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'filter must be an object {eventType, eventName, properties}';
  const f = raw as Record<string, unknown>;
  const unknown = Object.keys(f).filter((k) => !['eventType', 'eventName', 'properties'].includes(k));
  if (unknown.length > 0) return `filter.${unknown[0]} is not a known field (eventType, eventName, properties)`;
  const out: EventsFilter = {};
  for (const k of ['eventType', 'eventName'] as const) {
    if (f[k] === undefined) continue;
    if (typeof f[k] !== 'string' || (f[k] as string).length > 200) return `filter.${k} must be a string of at most 200 characters`;
    out[k] = f[k] as string;
  }
  if (f.properties !== undefined) {
    const p = f.properties;
    if (typeof p !== 'object' || p === null || Array.isArray(p) || Object.keys(p).length > 10) return 'filter.properties must be an object of at most 10 key: value pairs';
    for (const [k, v] of Object.entries(p)) {
      if (!['string', 'number', 'boolean'].includes(typeof v)) return `filter.properties.${k} must be a string, number or boolean`;
    }
    out.properties = p as Record<string, string | number | boolean>;
  }
  return out;
}
