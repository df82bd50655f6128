import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { closeOnShutdown } from '../close-on-shutdown.js';
import { EVENTS_STORE, type EventsStore } from '../clickhouse/events-store.port.js';
import { ElasticsearchEventSearch } from './elasticsearch.event-search.js';
import { EVENT_SEARCH, type EventSearch } from './event-search.port.js';
import { EventsStoreEventSearch } from './events-store.event-search.js';

/** Event search: Elasticsearch when ELASTICSEARCH_NODE is set, otherwise the events store itself. */
@Module({})
export class SearchModule {
  static forRoot(clickhouse: DynamicModule): DynamicModule {
    return {
      module: SearchModule,
      imports: [clickhouse],
      providers: [
        {
          provide: EVENT_SEARCH,
          inject: [EVENTS_STORE, APP_CONFIG],
          useFactory: async (store: EventsStore, config: AppConfig): Promise<EventSearch> => {
            const es = config.elasticsearch;
            if (!es.node) return new EventsStoreEventSearch(store);
            const search = new ElasticsearchEventSearch({
              node: es.node,
              username: es.username,
              password: es.password,
              apiKey: es.apiKey,
              indexPrefix: es.indexPrefix,
              retentionDays: config.retentionDays,
              logger: new Logger('elasticsearch'),
            });
            await search.setup();
            return search;
          },
        },
        closeOnShutdown(EVENT_SEARCH),
      ],
      exports: [EVENT_SEARCH],
    };
  }
}
