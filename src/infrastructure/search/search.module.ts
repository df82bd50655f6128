import { type DynamicModule, Module } from '@nestjs/common';
import { EVENTS_STORE, type EventsStore } from '../clickhouse/events-store.port.js';
import { EVENT_SEARCH, type EventSearch } from './event-search.port.js';
import { EventsStoreEventSearch } from './events-store.event-search.js';

/** Event search: on the events store (Elasticsearch arrives with ELASTICSEARCH_NODE). */
@Module({})
export class SearchModule {
  static forRoot(clickhouse: DynamicModule): DynamicModule {
    return {
      module: SearchModule,
      imports: [clickhouse],
      providers: [
        {
          provide: EVENT_SEARCH,
          inject: [EVENTS_STORE],
          useFactory: (store: EventsStore): EventSearch => new EventsStoreEventSearch(store),
        },
      ],
      exports: [EVENT_SEARCH],
    };
  }
}
