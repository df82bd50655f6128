import { Client, type estypes } from '@elastic/elasticsearch';
import type { Logger } from '@nestjs/common';
import type { EnrichedEventRow } from '../../events/event.types.js';
import { toStoredEvent } from '../../events/stored-event.js';
import type { EventSearch, EventSearchPage, EventSearchQuery } from './event-search.port.js';

export interface ElasticsearchOptions {
  node: string;
  username?: string;
  password?: string;
  apiKey?: string;
  indexPrefix: string;
  retentionDays: number;
  logger: Pick<Logger, 'log' | 'warn' | 'error'>;
}

/** What is indexed per event: the stored row, with properties as an object and times as ISO. */
type EventDocument = Omit<EnrichedEventRow, 'properties'> & { properties: Record<string, unknown> };

const BULK_ATTEMPTS = 5;

/**
 * Event search on Elasticsearch. Events go to monthly indices (`<prefix>-events-YYYY.MM`, by
 * event time) governed by an index template with explicit mappings and an ILM policy that
 * deletes an index once its newest possible event is older than RETENTION_DAYS. Indexing is
 * idempotent (the event id is the document id), so a retried batch never duplicates; a bulk item
 * that fails is retried, and one that still fails makes the whole batch fail, so the ingest log
 * keeps it and retries later: nothing is dropped silently.
 */
export class ElasticsearchEventSearch implements EventSearch {
  readonly kind = 'elasticsearch' as const;
  private readonly client: Client;

  constructor(private readonly options: ElasticsearchOptions) {
    this.client = new Client({
      node: options.node,
      auth: options.apiKey
        ? { apiKey: options.apiKey }
        : options.username
          ? { username: options.username, password: options.password ?? '' }
          : undefined,
      requestTimeout: 30_000,
    });
  }

  /** Creates or updates the ILM policy and the index template (idempotent, at boot). */
  async setup(): Promise<void> {
    const { indexPrefix: prefix, retentionDays } = this.options;
    await this.client.ilm.putLifecycle({
      name: `${prefix}-events-retention`,
      policy: {
        phases: {
          hot: { min_age: '0ms', actions: {} },
          // A monthly index is created by its month's first event and holds at most 31 days more.
          delete: { min_age: `${retentionDays + 31}d`, actions: { delete: {} } },
        },
      },
    });
    await this.client.indices.putIndexTemplate({
      name: `${prefix}-events`,
      index_patterns: [`${prefix}-events-*`],
      priority: 200,
      template: {
        settings: { 'index.lifecycle.name': `${prefix}-events-retention`, number_of_shards: 1 },
        mappings: eventMappings(),
      },
    });
    // Indices made from an earlier template gain the fields added since (adding is allowed).
    await this.client.indices.putMapping({
      index: `${prefix}-events-*`,
      allow_no_indices: true,
      ignore_unavailable: true,
      properties: eventMappings().properties,
    });
  }

  async index(lines: Buffer): Promise<void> {
    let pending = lines
      .toString('utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as EnrichedEventRow);
    for (let attempt = 1; pending.length > 0; attempt++) {
      const operations = pending.flatMap((row) => [
        { index: { _index: this.indexFor(row.timestamp), _id: row.event_id } },
        toDocument(row),
      ]);
      const response = await this.client.bulk({ operations, refresh: false });
      if (!response.errors) return;
      const failed: EnrichedEventRow[] = [];
      const reasons = new Set<string>();
      response.items.forEach((item, i) => {
        const result = item.index;
        if (result?.error) {
          failed.push(pending[i]!);
          reasons.add(`${result.status} ${result.error.type}: ${result.error.reason ?? ''}`);
        }
      });
      if (attempt >= BULK_ATTEMPTS) {
        throw new Error(`${failed.length} events could not be indexed after ${attempt} tries: ${[...reasons].join('; ')}`);
      }
      this.options.logger.warn({ failed: failed.length, reasons: [...reasons], attempt }, 'retrying failed bulk items');
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      pending = failed;
    }
  }

  async search(query: EventSearchQuery): Promise<EventSearchPage> {
    const response = await this.client.search<EventDocument>({
      index: `${this.options.indexPrefix}-events-*`,
      ignore_unavailable: true,
      allow_no_indices: true,
      ...buildSearchRequest(query),
    });
    const hits = response.hits.hits;
    const page = hits.slice(0, query.limit);
    const last = page.at(-1);
    return {
      events: page.map(({ _source: d }) => toStoredEvent(d!, { timestamp: d!.timestamp, receivedAt: d!.received_at }, d!.properties)),
      last: hits.length > query.limit && last ? { t: Date.parse(last._source!.timestamp), id: last._source!.event_id } : null,
    };
  }

  async ping(): Promise<boolean> {
    try {
      return await this.client.ping();
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private indexFor(timestamp: string): string {
    return `${this.options.indexPrefix}-events-${timestamp.slice(0, 4)}.${timestamp.slice(5, 7)}`;
  }
}

/** The query DSL for a search: every filter in `filter` context, newest first, keyset-paged. */
export function buildSearchRequest(query: EventSearchQuery): estypes.SearchRequest {
  const sort: estypes.Sort = [{ timestamp: { order: 'desc' } }, { event_id: { order: 'desc' } }];
  const filter: Record<string, unknown>[] = [{ term: { account_id: query.accountId } }];
  const terms: [string, string | undefined][] = [
    ['event_type', query.eventType],
    ['event_name', query.eventName],
    ['user_id', query.userId],
    ['session_id', query.sessionId],
  ];
  for (const [field, value] of terms) if (value !== undefined) filter.push({ term: { [field]: value } });
  if (query.from !== undefined || query.to !== undefined) {
    const range: Record<string, string> = {};
    if (query.from !== undefined) range.gte = new Date(query.from).toISOString();
    if (query.to !== undefined) range.lt = new Date(query.to).toISOString();
    filter.push({ range: { timestamp: range } });
  }
  if (query.terms.length > 0) filter.push({ match: { search_text: { query: query.terms.join(' '), operator: 'and' } } });
  return {
    size: query.limit + 1,
    query: { bool: { filter } },
    sort,
    ...(query.after ? { search_after: [query.after.t, query.after.id] } : {}),
    track_total_hits: false,
  };
}

/** The index template's mappings: strict, so every column the pipeline writes must be here. */
export function eventMappings() {
  const keyword = { type: 'keyword' as const };
  return {
    dynamic: 'strict' as const,
    properties: {
      account_id: keyword,
      event_id: keyword,
      event_type: keyword,
      event_name: keyword,
      timestamp: { type: 'date' as const },
      received_at: { type: 'date' as const },
      session_id: keyword,
      user_id: keyword,
      anonymous_id: keyword,
      ip: keyword,
      user_agent: { type: 'keyword' as const, ignore_above: 1024 },
      locale: keyword,
      browser: keyword,
      browser_version: keyword,
      os: keyword,
      os_version: keyword,
      device_type: keyword,
      // The web context (empty strings for other events) and the bot flag (absent: not a bot).
      origin: keyword,
      path: { type: 'keyword' as const, ignore_above: 2048 },
      title: { type: 'keyword' as const, ignore_above: 1024 },
      referrer: { type: 'keyword' as const, ignore_above: 2048 },
      referrer_name: keyword,
      referrer_type: keyword,
      utm_source: keyword,
      utm_medium: keyword,
      utm_campaign: keyword,
      utm_term: keyword,
      utm_content: keyword,
      country: keyword,
      region: keyword,
      city: keyword,
      is_bot: { type: 'byte' as const },
      search_text: { type: 'text' as const, analyzer: 'standard' },
      properties: {
        type: 'object' as const,
        dynamic: true,
      },
    },
    // properties.* are user-defined: strings become keywords (exact filters, aggregations),
    // numbers doubles and booleans booleans, whatever the first event of an index sent.
    dynamic_templates: [
      { property_strings: { path_match: 'properties.*', match_mapping_type: 'string' as const, mapping: { type: 'keyword' as const, ignore_above: 1024 } } },
      { property_numbers: { path_match: 'properties.*', match_mapping_type: 'long' as const, mapping: { type: 'double' as const } } },
    ],
  };
}

export function toDocument(row: EnrichedEventRow): EventDocument {
  return {
    ...row,
    timestamp: `${row.timestamp.replace(' ', 'T')}Z`,
    received_at: `${row.received_at.replace(' ', 'T')}Z`,
    properties: JSON.parse(row.properties) as Record<string, unknown>,
  };
}

