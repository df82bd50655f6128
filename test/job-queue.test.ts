import Bull from 'bull';
import { BullJobQueue } from '../src/infrastructure/queue/bull.job-queue.js';
import { InProcessJobQueue } from '../src/infrastructure/queue/in-process.job-queue.js';
import { type ContractJobs, jobQueueContract } from './support/job-queue.contract.js';
import { needs, REDIS_URL } from './support/services.js';

const quiet = { failed: () => undefined };

jobQueueContract('in-process', async (_scope, events = quiet, concurrency = 2) => new InProcessJobQueue<ContractJobs>(events, concurrency), {
  shared: false,
});

jobQueueContract(
  'Bull on Redis',
  async (scope, events = quiet, concurrency = 2) =>
    new BullJobQueue<ContractJobs>(new Bull('jobs', REDIS_URL, { prefix: `test-${scope}` }), concurrency, events),
  { shared: true },
  await needs('redis'),
);
