import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ApiError, type FieldProblem } from '../common/api-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { EVENTS_STORE, type EventsStore } from '../infrastructure/clickhouse/events-store.port.js';
import { EVENTS_TABLE } from '../infrastructure/clickhouse/schema/tables.js';
import { IngestBackpressureError } from '../infrastructure/ingest-log/ingest-log.port.js';
import { CookielessDeviceService, type DeviceHasher } from './cookieless-device.service.js';
import { DedupWindow } from './dedup-window.js';
import { toEventRow } from './event-row.js';
import type { EventInput, EventRow, RequestContext } from './event.types.js';
import { validateEvent } from './event.validator.js';
import { IngestPipelineService } from './ingest-pipeline.service.js';
import { LiveEventsPublisher } from './live-events.publisher.js';
import { UserAgentParser } from './user-agent.parser.js';
import { WebContextResolver } from './web-context.js';
import { toWireField, type WireFieldNames } from './wire-fields.js';

export interface IngestOutcome {
  /** Event ids of accepted events, by input index (undefined where rejected). */
  eventIds: (string | undefined)[];
  accepted: number;
  /** Accepted events that were already stored (a retry with the same eventId) and not stored again. */
  duplicates: number;
  /** `tooLarge`: rejected for its size alone. */
  rejected: { index: number; errors: FieldProblem[]; tooLarge?: true }[];
  /** With `cookielessDevice`: the device ids this call assigned, by input index (absent where none was). */
  deviceIds?: (string | undefined)[];
}

/** What a source asks of one ingest call, beside the events. */
export interface IngestOptions {
  /**
   * Where the event at an input index sits in the request, to prefix its errors' fields
   * (`events[3]`). Default: no prefix (the request is the one event).
   */
  eventPath?: (index: number) => string;
  /** The source's names for canonical fields: a rejected event's errors name what the sender wrote. */
  wireFields?: WireFieldNames;
  /**
   * Web traffic without cookies: a `track` event without an anonymousId gets the cookieless
   * device id (a hash of the account, the event's IP and user agent, and a daily salt), so
   * sessions and unique visitors work. The ids assigned are in IngestOutcome.deviceIds.
   */
  cookielessDevice?: boolean;
  /**
   * The events come from a source's message delivered again (its first delivery's process may
   * have appended them before dying unacknowledged), possibly in another batch: the writer skips
   * those the store already holds. The earliest time (ms) that first delivery can have been
   * received, such as the message's publish time.
   */
  redeliveredSince?: number;
}

const NO_OPTIONS: IngestOptions = {};

/**
 * Every source hands canonical events to this service: assign a cookieless device (when the
 * source asks), validate, enrich (user agent, page, referrer, UTM, place, bot), drop retried
 * duplicates, append to the durable log, and only then answer. A bad event is reported with
 * its index, in the source's field names, and never sinks the good ones.
 */
@Injectable()
export class IngestService implements OnApplicationBootstrap {
  private readonly logger = new Logger('ingest');
  private readonly userAgents = new UserAgentParser();
  private readonly web = new WebContextResolver();
  /** Client-supplied event ids recently accepted, as `${accountId}|${eventId}`. */
  private readonly recentIds: DedupWindow;
  private readonly counters = { accepted: 0, rejected: 0, duplicates: 0, backpressure: 0 };

  constructor(
    private readonly pipeline: IngestPipelineService,
    private readonly live: LiveEventsPublisher,
    @Inject(EVENTS_STORE) private readonly store: EventsStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly devices: CookielessDeviceService,
  ) {
    this.recentIds = new DedupWindow(config.ingest.dedupWindow);
    pipeline.onRecoveredRow((row) => this.recentIds.add(`${String(row.account_id)}|${String(row.event_id)}`));
  }

  /**
   * Seeds the dedup window with the newest stored ids, so a retry right after a restart is still
   * caught. Runs at bootstrap, after the schema migrations of onModuleInit.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.ingest.dedupWindow === 0) return;
    const rows = await this.store.query<{ a: string; e: string }>(
      `SELECT a, e FROM (
         SELECT account_id AS a, toString(event_id) AS e, received_at FROM ${EVENTS_TABLE}
         WHERE received_at >= now64(3) - INTERVAL 1 HOUR
         ORDER BY received_at DESC
         LIMIT {n:UInt32}
       )
       ORDER BY received_at ASC`,
      { n: this.config.ingest.dedupWindow },
    );
    for (const r of rows) this.recentIds.add(`${r.a}|${r.e}`);
    if (rows.length > 0) this.logger.log({ ids: rows.length }, 'seeded the dedup window');
  }

  async ingest(accountId: string, inputs: unknown[], request: RequestContext, options: IngestOptions = NO_OPTIONS): Promise<IngestOutcome> {
    const outcome: IngestOutcome = { eventIds: [], accepted: 0, duplicates: 0, rejected: [] };
    const { eventPath, wireFields } = options;
    // One await for the day's salt, only when asked and some event needs a device.
    const device = options.cookielessDevice && inputs.some(lacksDevice) ? await this.devices.hasherFor(request.receivedAt) : undefined;
    const lines: string[] = [];
    const claimed: string[] = [];
    let allIdsFromClient = true;
    const rows: EventRow[] = [];
    const validation = {
      accountId,
      now: request.receivedAt,
      retentionDays: this.config.retentionDays,
      bodyBytes: request.bodyBytes,
    };
    inputs.forEach((raw, index) => {
      if (device && lacksDevice(raw)) raw = this.withDevice(accountId, raw, request, device, index, outcome);
      const path = eventPath ? eventPath(index) : '';
      // With wire names, fields are renamed first and prefixed after (`events[3].payload.name`).
      const result = validateEvent(raw, validation, wireFields ? '' : path);
      if (!result.ok) {
        const errors = wireFields ? result.errors.map((e) => ({ ...e, field: inWireFormat(e.field, path, wireFields) })) : result.errors;
        outcome.rejected.push({ index, errors, ...(result.tooLarge ? { tooLarge: true as const } : {}) });
        outcome.eventIds.push(undefined);
        return;
      }
      const row = toEventRow(accountId, result.event, request, this.userAgents, this.web);
      outcome.eventIds.push(row.event_id);
      outcome.accepted++;
      if (result.event.input.eventId === undefined) allIdsFromClient = false;
      else {
        const key = `${accountId}|${row.event_id}`;
        if (this.recentIds.has(key)) {
          outcome.duplicates++;
          return;
        }
        this.recentIds.add(key);
        claimed.push(key);
      }
      lines.push(JSON.stringify(row));
      rows.push(row);
    });
    if (lines.length > 0) {
      try {
        // With every id chosen by the client, a retry of this request is recognisable anywhere
        // (JetStream drops a message id it has seen within its duplicate window).
        const dedupKey = allIdsFromClient ? messageId(accountId, claimed) : undefined;
        await this.pipeline.append(Buffer.from(`${lines.join('\n')}\n`), lines.length, { dedupKey, redeliveredSince: options.redeliveredSince });
      } catch (err) {
        // Not stored: forget the ids so the client's retry is not mistaken for a duplicate.
        for (const key of claimed) this.recentIds.delete(key);
        if (err instanceof IngestBackpressureError) {
          this.counters.backpressure++;
          throw ApiError.unavailable(err.message, err.retryAfterSeconds);
        }
        throw err;
      }
    }
    this.live.record(accountId, rows);
    this.counters.accepted += outcome.accepted;
    this.counters.duplicates += outcome.duplicates;
    this.counters.rejected += outcome.rejected.length;
    return outcome;
  }

  /**
   * The event with its cookieless device id, before validation: the id counts in the event's
   * size like any field. Hashed from the IP and user agent the row will keep (the event's own,
   * else the request's).
   */
  private withDevice(
    accountId: string,
    event: EventInput,
    request: RequestContext,
    device: DeviceHasher,
    index: number,
    outcome: IngestOutcome,
  ): EventInput {
    const ip = event.context?.ip;
    const userAgent = event.context?.userAgent;
    const anonymousId = device(
      accountId,
      typeof ip === 'string' ? ip : request.ip,
      typeof userAgent === 'string' ? userAgent : (request.userAgent ?? ''),
    );
    (outcome.deviceIds ??= [])[index] = anonymousId;
    return { ...event, anonymousId };
  }

  stats() {
    return { ...this.counters, dedupWindowSize: this.recentIds.size };
  }
}

function inWireFormat(field: string, path: string, names: WireFieldNames): string {
  const name = toWireField(field, names);
  return path ? `${path}.${name}` : name;
}

/** A track event (page views and the like) that names no device; identify and the like need none. */
function lacksDevice(raw: unknown): raw is EventInput {
  if (typeof raw !== 'object' || raw === null) return false;
  const e = raw as Partial<EventInput>;
  return e.eventType === 'track' && !e.anonymousId;
}

function messageId(accountId: string, keys: string[]): string {
  return createHash('sha256').update(accountId).update('\0').update(keys.join(',')).digest('hex');
}
