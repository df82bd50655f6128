/**
 * What sources (src/sources/<wire format>) use of the events feature: the canonical event, the
 * one ingest service and its options, the limits, what a request tells about its sender, and
 * the wire field names a source maps validation errors to. Everything else here is internal.
 */
export type { EventInput, RequestContext } from './event.types.js';
export * from './live-events.types.js';
export { EVENT_LIMITS } from './event.validator.js';
export { EventsModule } from './events.module.js';
export { type IngestOptions, type IngestOutcome, IngestService } from './ingest.service.js';
export { requestContext } from './request-context.js';
export { toWireField, type WireFieldNames } from './wire-fields.js';
