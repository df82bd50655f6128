import { randomUUID } from 'node:crypto';
import type { EnrichedEventRow, GeoInput, RequestContext } from './event.types.js';
import type { ValidatedEvent } from './event.validator.js';
import type { UserAgentParser } from './user-agent.parser.js';
import type { WebContextResolver } from './web-context.js';
import { toClickHouseTime } from '../infrastructure/clickhouse/clickhouse-time.js';

/** Normalizes and enriches a validated event into the row the store keeps. */
export function toEventRow(
  accountId: string,
  event: ValidatedEvent,
  request: RequestContext,
  userAgents: UserAgentParser,
  web: WebContextResolver,
): EnrichedEventRow {
  const e = event.input;
  // An explicit context.ip is the end user's address sent by a server-side SDK.
  const ip = e.context?.ip ?? request.ip;
  const userAgent = e.context?.userAgent ?? request.userAgent ?? '';
  const ua = userAgents.parse(userAgent);
  const eventName = e.eventName.trim();
  return {
    account_id: accountId,
    event_id: (e.eventId ?? randomUUID()).toLowerCase(),
    event_type: e.eventType.trim(),
    event_name: eventName,
    timestamp: toClickHouseTime(event.timestampMs),
    received_at: toClickHouseTime(request.receivedAt),
    session_id: e.sessionId ?? '',
    user_id: e.userId ?? '',
    anonymous_id: e.anonymousId ?? '',
    properties: event.propertiesJson,
    ip,
    user_agent: userAgent,
    locale: e.context?.locale ?? '',
    browser: ua.browser,
    browser_version: ua.browserVersion,
    os: ua.os,
    os_version: ua.osVersion,
    device_type: ua.deviceType,
    search_text: [eventName.toLowerCase(), ...event.searchValues].join(' '),
    ...web.resolve(e.context?.page, ip),
    ...givenPlace(e.context?.geo),
    ...(ua.isBot ? { is_bot: 1 as const } : {}),
  };
}

/** The place fields the sender gave (non-empty): they replace the IP lookup's. */
function givenPlace(geo: GeoInput | undefined): Partial<Record<'country' | 'region' | 'city', string>> {
  if (!geo) return {};
  const out: Partial<Record<'country' | 'region' | 'city', string>> = {};
  if (geo.country) out.country = geo.country;
  if (geo.region) out.region = geo.region;
  if (geo.city) out.city = geo.city;
  return out;
}
