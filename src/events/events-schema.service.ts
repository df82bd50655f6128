import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { EVENTS_STORE, type EventsStore } from '../infrastructure/clickhouse/events-store.port.js';
import { migrate } from '../infrastructure/clickhouse/migrator.js';
import { EVENTS_MIGRATIONS, retentionTtls } from './events.migrations.js';

/** Brings the events schema up to date at boot, and keeps the TTL equal to RETENTION_DAYS. */
@Injectable()
export class EventsSchemaService implements OnModuleInit {
  private readonly logger = new Logger('events-schema');

  constructor(
    @Inject(EVENTS_STORE) private readonly store: EventsStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const applied = await migrate(this.store, EVENTS_MIGRATIONS, { retentionDays: this.config.retentionDays });
    if (applied.length > 0) this.logger.log({ applied }, 'applied events migrations');
    await this.ensureRetention();
  }

  private async ensureRetention(): Promise<void> {
    for (const [name, wanted] of Object.entries(retentionTtls(this.config.retentionDays))) {
      const [table] = await this.store.query<{ engine_full: string }>(
        `SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {name:String}`,
        { name },
      );
      if (table && !table.engine_full.includes(wanted)) {
        await this.store.command(`ALTER TABLE ${name} MODIFY TTL ${wanted}`);
        this.logger.log({ table: name, retentionDays: this.config.retentionDays }, 'changed the retention TTL');
      }
    }
  }
}
