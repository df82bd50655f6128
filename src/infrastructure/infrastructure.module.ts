import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { AppConfig } from '../config/config.schema.js';
import { ClickHouseModule } from './clickhouse/clickhouse.module.js';
import { DocumentsModule } from './documents/documents.module.js';
import type { DocumentStore } from './documents/documents.port.js';
import { IngestLogModule } from './ingest-log/ingest-log.module.js';
import { WriterLockModule } from './lock/writer-lock.module.js';
import { MailModule } from './mail/mail.module.js';
import { PubSubModule } from './pubsub/pubsub.module.js';
import { JobQueueModule } from './queue/job-queue.module.js';
import { SearchModule } from './search/search.module.js';

/**
 * The one place that picks an adapter for every port from the configuration. Feature modules
 * inject ports by token (EVENTS_STORE, DOCUMENT_STORE, EVENT_SEARCH, INGEST_LOG, PUBSUB,
 * JOB_QUEUE, WRITER_LOCK, MAILER) and never know which engine is behind them.
 */
/** Adapters an embedding process hands in instead of the ones config would pick. */
export interface InfrastructureOverrides {
  documentStore?: DocumentStore;
}

@Global()
@Module({})
export class InfrastructureModule {
  static forRoot(config: AppConfig, given: InfrastructureOverrides = {}): DynamicModule {
    const clickhouse = ClickHouseModule.forRoot();
    const modules = [
      clickhouse,
      DocumentsModule.forRoot(given.documentStore),
      SearchModule.forRoot(clickhouse),
      IngestLogModule.forRoot(),
      PubSubModule.forRoot(),
      JobQueueModule.forRoot(config),
      WriterLockModule.forRoot(),
      MailModule.forRoot(),
    ];
    return { module: InfrastructureModule, imports: modules, exports: modules };
  }
}
