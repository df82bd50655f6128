import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { EVENTS_STORE, type EventsStore } from '../infrastructure/clickhouse/events-store.port.js';
import { migrateSchema } from '../infrastructure/clickhouse/schema/migrate-schema.js';

/** Brings the events schema up to date at boot, and keeps the TTLs equal to RETENTION_DAYS. */
@Injectable()
export class EventsSchemaService implements OnModuleInit {
  private readonly logger = new Logger('events-schema');

  constructor(
    @Inject(EVENTS_STORE) private readonly store: EventsStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const retentionDays = this.config.retentionDays;
    const { applied, retention } = await migrateSchema(this.store, { retentionDays });
    if (applied.length > 0) this.logger.log({ applied }, 'applied events migrations');
    for (const table of retention) this.logger.log({ table, retentionDays }, 'changed the retention TTL');
  }
}
