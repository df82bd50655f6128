import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { closeOnShutdown } from '../close-on-shutdown.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { InProcessPubSub } from './in-process.pubsub.js';
import { PUBSUB, type PubSub } from './pubsub.port.js';
import { RedisPubSub } from './redis.pubsub.js';

/** Live fan-out: Redis pub/sub when REDIS_URL is set (across replicas), in-process otherwise. */
@Module({})
export class PubSubModule {
  static forRoot(): DynamicModule {
    const logger = new Logger('pubsub');
    return {
      module: PubSubModule,
      providers: [
        {
          provide: PUBSUB,
          inject: [APP_CONFIG],
          useFactory: async (config: AppConfig): Promise<PubSub> => {
            const onError = (err: unknown, channel: string) => logger.error({ err, channel }, 'subscriber failed');
            return config.redisUrl ? RedisPubSub.connect(config.redisUrl, onError) : new InProcessPubSub(onError);
          },
        },
        closeOnShutdown(PUBSUB),
      ],
      exports: [PUBSUB],
    };
  }
}
