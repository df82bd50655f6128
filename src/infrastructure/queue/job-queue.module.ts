import { type DynamicModule, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { InProcessJobQueue } from './in-process.job-queue.js';
import { JOB_QUEUE, type JobQueue } from './job-queue.port.js';

class JobQueueLifecycle implements OnApplicationShutdown {
  constructor(@Inject(JOB_QUEUE) private readonly queue: JobQueue) {}
  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}

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
        JobQueueLifecycle,
      ],
      exports: [JOB_QUEUE],
    };
  }
}
