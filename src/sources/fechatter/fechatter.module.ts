import { type DynamicModule, Module } from '@nestjs/common';
import { AccountDirectoryModule } from '../../accounts/account-directory.module.js';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { EventsModule } from '../../events/index.js';
import { MetricsModule } from '../../metrics/index.js';
import { FECHATTER_SESSIONS, FechatterIngest } from './fechatter-ingest.js';
import { FechatterMetricsController } from './fechatter-metrics.controller.js';
import { FechatterNatsConsumer } from './fechatter-nats.consumer.js';
import { type FechatterSessions, InProcessFechatterSessions, RedisFechatterSessions } from './fechatter-sessions.js';
import { FechatterController, PROTOBUF_ROUTES } from './fechatter.controller.js';
import { acceptProtobufBodies } from './protobuf-body.js';

/**
 * Fechatter's analytics: its HTTP API (protobuf and JSON) where HTTP is served, and its NATS
 * JetStream stream where background work runs (with FECHATTER_NATS_ENABLED). Sessions by
 * Fechatter's rule live in Redis when REDIS_URL is set (every replica continues the same
 * session), in process otherwise.
 */
@Module({})
export class FechatterModule {
  static forRoot(config: AppConfig): DynamicModule {
    const http = config.role !== 'worker';
    const background = config.role !== 'api';
    return {
      module: FechatterModule,
      imports: [EventsModule, AccountDirectoryModule, ...(http ? [MetricsModule] : [])],
      controllers: http ? [FechatterController, FechatterMetricsController] : [],
      providers: [
        FechatterIngest,
        {
          provide: FECHATTER_SESSIONS,
          inject: [APP_CONFIG],
          useFactory: (c: AppConfig): Promise<FechatterSessions> | FechatterSessions =>
            c.redisUrl ? RedisFechatterSessions.connect(c.redisUrl) : new InProcessFechatterSessions(),
        },
        {
          provide: Symbol('close Fechatter sessions'),
          inject: [FECHATTER_SESSIONS],
          useFactory: (sessions: FechatterSessions) => ({ onApplicationShutdown: () => sessions.close() }),
        },
        ...(http
          ? [
              {
                // Before the routes are ready: their protobuf bodies need a parser of their own.
                provide: Symbol('protobuf bodies'),
                inject: [HttpAdapterHost],
                useFactory: (host: HttpAdapterHost) => acceptProtobufBodies(host.httpAdapter.getInstance<FastifyInstance>(), PROTOBUF_ROUTES),
              },
            ]
          : []),
        ...(background ? [FechatterNatsConsumer] : []),
      ],
    };
  }
}
