import { hash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { type IngestOutcome, IngestService, type RequestContext } from '../../events/index.js';
import { type EventEnvelope, FECHATTER_FIELD_NAMES, type FechatterEvent, toEventInput } from './fechatter-event.decoder.js';
import type { FechatterSessions, SessionClaim } from './fechatter-sessions.js';

export const FECHATTER_SESSIONS = Symbol('FECHATTER_SESSIONS');

/** What a transport knows about where its events came from. */
export interface FechatterTransport {
  /** The client's IP by the HTTP headers' rules (absent on NATS: the context's is used). */
  ip?: string;
  /** The CDN's place headers (HTTP only). */
  geo?: EventEnvelope['geo'];
  /**
   * A stable name for the event at an index when the event alone does not identify it (no client
   * timestamp): NATS gives `<stream>/<sequence>/<index>`, so a redelivered message is recognised.
   */
  position?: (index: number) => string;
  /** Where the event at an index sits in the request, for error fields (`events[3]`). */
  eventPath?: (index: number) => string;
  /** NATS: the events' messages are redeliveries, first published at this time (ms) or later. */
  redeliveredSince?: number;
}

export interface FechatterOutcome extends IngestOutcome {
  /** The session of each event, by index (absent where it has no client id). */
  sessionIds: (string | undefined)[];
}

/**
 * Fechatter events, from either transport, into the one ingest service: each gets its session by
 * Fechatter's 10-minute rule (unless it names one) and a stable event id, so a retried request or
 * a redelivered NATS message is stored once.
 */
@Injectable()
export class FechatterIngest {
  constructor(
    private readonly ingest: IngestService,
    @Inject(FECHATTER_SESSIONS) private readonly sessions: FechatterSessions,
  ) {}

  async record(accountId: string, events: FechatterEvent[], request: RequestContext, transport: FechatterTransport = {}): Promise<FechatterOutcome> {
    const sessionIds = await this.sessionsOf(accountId, events, request.receivedAt);
    const idPrefix = Buffer.from(`fechatter\0${accountId}\0`);
    const inputs = events.map((event, index) =>
      toEventInput(event, {
        receivedAt: request.receivedAt,
        sessionId: sessionIds[index],
        eventId: eventId(idPrefix, event, transport.position?.(index)),
        ip: transport.ip,
        geo: transport.geo,
      }),
    );
    const outcome = await this.ingest.ingest(accountId, inputs, request, {
      wireFields: FECHATTER_FIELD_NAMES,
      eventPath: transport.eventPath,
      redeliveredSince: transport.redeliveredSince,
    });
    return { ...outcome, sessionIds };
  }

  /** The session each event names, else the one its client is in (by its user id when it has no client id). */
  private async sessionsOf(accountId: string, events: FechatterEvent[], receivedAt: number): Promise<(string | undefined)[]> {
    const claims: SessionClaim[] = [];
    const claimed: number[] = [];
    const out: (string | undefined)[] = events.map((e, index) => {
      if (e.context.session_id) return e.context.session_id;
      const clientId = e.context.client_id || (e.context.user_id ? `user:${e.context.user_id}` : '');
      if (!clientId) return undefined;
      const clientTs = Number(e.context.client_ts);
      claims.push({ accountId, clientId, at: clientTs > 0 ? clientTs : receivedAt });
      claimed.push(index);
      return undefined;
    });
    const assigned = await this.sessions.assign(claims);
    claimed.forEach((index, i) => (out[index] = assigned[i]));
    return out;
  }
}

/**
 * A stable id: an event with a client timestamp is identified by its own bytes (the same event
 * sent again, over HTTP or NATS, as protobuf or JSON, is the same event); one without, by its
 * place in the NATS stream; otherwise it gets a random id when stored.
 */
function eventId(prefix: Buffer, event: FechatterEvent, position: string | undefined): string | undefined {
  let identity: Uint8Array;
  if (Number(event.context.client_ts) > 0) identity = event.encoded;
  else if (position) identity = Buffer.from(`position\0${position}`);
  else return undefined;
  // One-shot hashing: half the cost of a Hash object per event.
  return hashUuid(hash('sha256', Buffer.concat([prefix, identity]), 'buffer'));
}

/** A name-based UUID (version 8, RFC 9562) from a digest. */
function hashUuid(digest: Buffer): string {
  const b = Buffer.from(digest.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
