import { hostname } from 'node:os';
import { join } from 'node:path';
import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { INGEST_LOG, type IngestLog } from './ingest-log.port.js';
import { JetStreamIngestLog } from './jetstream.ingest-log.js';
import { LocalIngestLog } from './local.ingest-log.js';

/** The durable ingest log: NATS JetStream when NATS_URL is set, else a local append-only log under DATA_DIR. */
@Module({})
export class IngestLogModule {
  static forRoot(): DynamicModule {
    return {
      module: IngestLogModule,
      providers: [
        {
          provide: INGEST_LOG,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig): IngestLog =>
            config.nats.url
              ? new JetStreamIngestLog({
                  nats: config.nats,
                  connectionName: `analytics-${config.role}-${hostname()}-${process.pid}`,
                  logger: new Logger('ingest-log'),
                })
              : new LocalIngestLog({
              dir: join(config.dataDir, 'ingest-log'),
              fsync: config.ingest.fsync,
              flushIntervalMs: config.ingest.flushIntervalMs,
              flushMaxEvents: config.ingest.flushMaxEvents,
              maxBytes: config.ingest.logMaxBytes,
              memoryBufferBytes: config.ingest.memoryBufferBytes,
                  logger: new Logger('ingest-log'),
                }),
        },
      ],
      exports: [INGEST_LOG],
    };
  }
}
