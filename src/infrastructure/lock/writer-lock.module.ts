import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { closeOnShutdown } from '../close-on-shutdown.js';
import { InProcessWriterLock } from './in-process.writer-lock.js';
import { RedisWriterLock } from './redis.writer-lock.js';
import { WRITER_LOCK, type WriterLock } from './writer-lock.port.js';

/** Writer turns: on Redis when REDIS_URL is set (across replicas), in-process otherwise. */
@Module({})
export class WriterLockModule {
  static forRoot(): DynamicModule {
    const logger = new Logger('writer-lock');
    return {
      module: WriterLockModule,
      providers: [
        {
          provide: WRITER_LOCK,
          inject: [APP_CONFIG],
          useFactory: async (config: AppConfig): Promise<WriterLock> =>
            config.redisUrl
              ? RedisWriterLock.connect(config.redisUrl, {
                  onLost: (name) => logger.error({ name }, 'lost a writer lock while holding it (a stall longer than its expiry)'),
                })
              : new InProcessWriterLock(),
        },
        closeOnShutdown(WRITER_LOCK),
      ],
      exports: [WRITER_LOCK],
    };
  }
}
