import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { closeOnShutdown } from '../close-on-shutdown.js';
import { InProcessPubSub } from './in-process.pubsub.js';
import { PUBSUB, type PubSub } from './pubsub.port.js';

/** Live fan-out: in-process (Redis pub/sub arrives with REDIS_URL). */
@Module({})
export class PubSubModule {
  static forRoot(): DynamicModule {
    const logger = new Logger('pubsub');
    return {
      module: PubSubModule,
      providers: [
        {
          provide: PUBSUB,
          useFactory: (): PubSub =>
            new InProcessPubSub((err, channel) => logger.error({ err, channel }, 'subscriber failed')),
        },
        closeOnShutdown(PUBSUB),
      ],
      exports: [PUBSUB],
    };
  }
}
