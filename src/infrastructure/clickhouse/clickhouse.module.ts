import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { closeOnShutdown } from '../close-on-shutdown.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { ChdbEventsStore } from './chdb.events-store.js';
import { ClickHouseServerEventsStore } from './clickhouse-server.events-store.js';
import { EVENTS_STORE, type EventsStore } from './events-store.port.js';
import { RegexValidator } from './regex-validator.js';

/** Opens the events store the configuration asks for: a ClickHouse server when CLICKHOUSE_URL is set, chDB otherwise. */
export async function openEventsStore(config: AppConfig): Promise<EventsStore> {
  if (config.clickhouse.url) {
    return ClickHouseServerEventsStore.open({
      url: config.clickhouse.url,
      user: config.clickhouse.user,
      password: config.clickhouse.password,
      database: config.clickhouse.database,
      queryTimeoutMs: config.queryTimeoutMs,
    });
  }
  return ChdbEventsStore.open(config.dataDir, config.chdbSessions, config.queryTimeoutMs);
}


@Module({})
export class ClickHouseModule {
  static forRoot(): DynamicModule {
    return {
      module: ClickHouseModule,
      providers: [
        {
          provide: EVENTS_STORE,
          inject: [APP_CONFIG],
          useFactory: async (config: AppConfig) => {
            const store = await openEventsStore(config);
            new Logger('events-store').log({ kind: store.kind }, 'events store opened');
            return store;
          },
        },
        closeOnShutdown(EVENTS_STORE),
        // Checks regular expressions from requests with the store's own engine (RE2).
        RegexValidator,
      ],
      exports: [EVENTS_STORE, RegexValidator],
    };
  }
}
