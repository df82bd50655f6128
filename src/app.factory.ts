import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LiveWsAdapter } from './realtime/live-ws.adapter.js';
import { type FastifyBaseLogger, type FastifyError, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger as Pino } from 'pino';
import { AppModule } from './app.module.js';
import { ApiExceptionFilter, type FastifyLikeError, frameworkErrorBody } from './common/api-exception.filter.js';
import type { AppConfig } from './config/config.schema.js';
import { EVENT_LIMITS } from './events/event.validator.js';
import type { InfrastructureOverrides } from './infrastructure/infrastructure.module.js';
import { PinoLoggerService } from './observability/logger.js';

/** Builds the whole application (used by main.ts and by the e2e tests). */
export async function createApp(config: AppConfig, logger: Pino, overrides: InfrastructureOverrides = {}): Promise<NestFastifyApplication> {
  mkdirSync(config.dataDir, { recursive: true });
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // A log line per request would cost more than the ingestion itself; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // No pino child per request (it cost ~7% of ingestion throughput): error logs carry the
    // request id explicitly (ApiExceptionFilter).
    childLoggerFactory: (parent: FastifyBaseLogger) => parent,
    // The router refuses some URLs before Nest sees them: answer those in the one error shape.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const { status, body } = frameworkErrorBody(error as FastifyLikeError);
      void reply.status(status).send(body);
    },
    // Room for a full batch (5 MB of events) plus the envelope.
    bodyLimit: EVENT_LIMITS.maxBatchBytes + 64 * 1024,
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && given.length <= 128 ? given : crypto.randomUUID();
    },
  });
  // Bodies are JSON: Fastify's own parser takes application/json, and every other content type
  // is refused with 415 (ApiExceptionFilter says what to send). Nest's default parsers would
  // also read form-encoded bodies, so `curl -d '{…}'` (sent as a form) turned the JSON text into
  // a field name; and text/plain, which Fastify reads as a string.
  adapter.getInstance().removeContentTypeParser('text/plain');
  // A route may declare a smaller body limit of its own, `@RouteConfig({ bodyLimit })` (Segment's
  // routes: 32 KB a call, 500 KB a batch); Fastify refuses a larger body before reading it.
  adapter.getInstance().addHook('onRoute', (route) => {
    const limit = (route.config as { bodyLimit?: unknown } | undefined)?.bodyLimit;
    if (typeof limit === 'number') route.bodyLimit = limit;
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, overrides), adapter, {
    logger: new PinoLoggerService(logger),
    bufferLogs: false,
    bodyParser: false,
  });
  app.useGlobalFilters(new ApiExceptionFilter());
  app.useWebSocketAdapter(new LiveWsAdapter(app));
  return app;
}
