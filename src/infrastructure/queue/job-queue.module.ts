import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { closeOnShutdown } from '../close-on-shutdown.js';
import { InProcessJobQueue } from './in-process.job-queue.js';
import { JOB_QUEUE, type JobQueue } from './job-queue.port.js';

/** Background jobs: in-process (Bull on Redis arrives with REDIS_URL). */
@Module({})
export class JobQueueModule {
  static forRoot(): DynamicModule {
    const logger = new Logger('jobs');
    return {
      module: JobQueueModule,
      providers: [
        {
          provide: JOB_QUEUE,
          useFactory: (): JobQueue =>
            new InProcessJobQueue({
              failed: (job, err, willRetry) => logger.warn({ job, err, willRetry }, 'job failed'),
            }),
        },
        closeOnShutdown(JOB_QUEUE),
      ],
      exports: [JOB_QUEUE],
    };
  }
}
