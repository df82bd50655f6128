import { BullModule, getQueueToken } from '@nestjs/bull';
import { type DynamicModule, Logger, Module } from '@nestjs/common';
import type { Queue } from 'bull';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { closeOnShutdown } from '../close-on-shutdown.js';
import { BullJobQueue } from './bull.job-queue.js';
import { InProcessJobQueue, type JobEvents } from './in-process.job-queue.js';
import { JOB_QUEUE, type JobQueue } from './job-queue.port.js';

const QUEUE_NAME = 'jobs';

/** Starts processing at bootstrap, after every feature registered its handlers (not on ROLE=api). */
const startWorkers = {
  provide: Symbol('start job workers'),
  inject: [JOB_QUEUE, APP_CONFIG],
  useFactory: (queue: JobQueue, config: AppConfig) => ({
    onApplicationBootstrap: () => (config.role === 'api' ? undefined : queue.start()),
  }),
};

/** Background jobs: Bull on Redis when REDIS_URL is set (shared by replicas), in-process otherwise. */
@Module({})
export class JobQueueModule {
  static forRoot(config: AppConfig): DynamicModule {
    const logger = new Logger('jobs');
    const events: JobEvents = {
      failed: (job, err, willRetry) => logger.warn({ job, err, willRetry }, 'job failed'),
    };
    if (config.redisUrl) {
      const redisUrl = config.redisUrl;
      return {
        module: JobQueueModule,
        imports: [
          BullModule.forRoot({ redis: redisUrl, prefix: config.jobsPrefix }),
          BullModule.registerQueue({ name: QUEUE_NAME }),
        ],
        providers: [
          {
            provide: JOB_QUEUE,
            inject: [getQueueToken(QUEUE_NAME), APP_CONFIG],
            useFactory: (queue: Queue, c: AppConfig): JobQueue => new BullJobQueue(queue, c.jobsConcurrency, events),
          },
          closeOnShutdown(JOB_QUEUE),
          startWorkers,
        ],
        exports: [JOB_QUEUE],
      };
    }
    return {
      module: JobQueueModule,
      providers: [
        {
          provide: JOB_QUEUE,
          inject: [APP_CONFIG],
          useFactory: (c: AppConfig): JobQueue => new InProcessJobQueue(events, c.jobsConcurrency),
        },
        closeOnShutdown(JOB_QUEUE),
        startWorkers,
      ],
      exports: [JOB_QUEUE],
    };
  }
}
