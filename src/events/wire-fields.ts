import type { EventInput } from './event.types.js';

/**
 * A source's names for the canonical event's fields: where each sits in the source's wire format
 * (`eventName` → `payload.name`). Given to IngestService.ingest, so a rejected event's errors
 * name the fields the sender wrote, not the canonical ones. Fields a source does not map keep
 * their canonical path (`context.ip`).
 */
export type WireFieldNames = Readonly<Partial<Record<keyof EventInput, string>>>;

/** Renames a canonical error field, `eventName[.rest]`, to the wire's `payload.name[.rest]`. */
export function toWireField(field: string, names: WireFieldNames): string {
  const dot = field.indexOf('.');
  const head = dot < 0 ? field : field.slice(0, dot);
  const mapped = Object.hasOwn(names, head) ? names[head as keyof EventInput] : undefined;
  return mapped ? mapped + (dot < 0 ? '' : field.slice(dot)) : field;
}
