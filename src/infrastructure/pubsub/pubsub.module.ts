import { type DynamicModule, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { InProcessPubSub } from './in-process.pubsub.js';
import { PUBSUB, type PubSub } from './pubsub.port.js';

class PubSubLifecycle implements OnApplicationShutdown {
  constructor(@Inject(PUBSUB) private readonly pubsub: PubSub) {}
  async onApplicationShutdown(): Promise<void> {
    await this.pubsub.close();
  }
}

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
        PubSubLifecycle,
      ],
      exports: [PUBSUB],
    };
  }
}
