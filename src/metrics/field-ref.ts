import type { ParamBag } from '../infrastructure/clickhouse/query/query-kit.js';

/** Event fields a metric can filter or group on, by their API name, and their column. */
const EVENT_FIELDS: Record<string, string> = {
  eventType: 'event_type',
  eventName: 'event_name',
  userId: 'user_id',
  sessionId: 'session_id',
  anonymousId: 'anonymous_id',
  locale: 'locale',
  browser: 'browser',
  browserVersion: 'browser_version',
  os: 'os',
  osVersion: 'os_version',
  deviceType: 'device_type',
  ip: 'ip',
};

export const MAX_PATH_DEPTH = 6;

export type FieldRef = { kind: 'column'; column: string } | { kind: 'property'; path: string[] };

/**
 * A field name as users write it: an event field (`userId`), an explicit property path
 * (`properties.plan.tier`), or a bare name that is not an event field, which means that
 * property (`campaignId` → `properties.campaignId`).
 */
export function resolveField(name: string): FieldRef {
  if (Object.hasOwn(EVENT_FIELDS, name)) return { kind: 'column', column: EVENT_FIELDS[name]! };
  const path = name.startsWith('properties.') ? name.slice('properties.'.length).split('.') : name.split('.');
  if (path.length === 0 || path.length > MAX_PATH_DEPTH || path.some((p) => p.length === 0 || p.length > 200)) {
    throw new Error(`"${name}" is not an event field or a property path of 1 to ${MAX_PATH_DEPTH} keys`);
  }
  return { kind: 'property', path };
}

const keys = (ref: { path: string[] }, bag: ParamBag) => ref.path.map((k) => bag.bind(k, 'String')).join(', ');

/** The field as text ('' when absent). */
export function textExpr(ref: FieldRef, bag: ParamBag): string {
  if (ref.kind === 'column') return ref.column;
  // One parse: a string property as its text, a number or boolean as its JSON text ('150', 'true').
  return `ifNull(JSONExtract(properties, ${keys(ref, bag)}, 'Nullable(String)'), '')`;
}

/** The field as a number, NULL when absent or not numeric (so aggregates skip it). */
export function numberExpr(ref: FieldRef, bag: ParamBag): string {
  if (ref.kind === 'column') return `toFloat64OrNull(${ref.column})`;
  return `JSONExtract(properties, ${keys(ref, bag)}, 'Nullable(Float64)')`;
}

/** Whether the field is present (an event field is present when not empty). */
export function existsExpr(ref: FieldRef, bag: ParamBag): string {
  if (ref.kind === 'column') return `${ref.column} != ''`;
  return `JSONHas(properties, ${keys(ref, bag)})`;
}
