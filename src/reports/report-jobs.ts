/** The reports feature's jobs: generating a run's file, and mailing it to the run's recipients. */
export const GENERATE_JOB = 'report.generate';
export const DELIVER_JOB = 'report.deliver';
export const PRUNE_JOB = 'report.prune';

declare module '../infrastructure/queue/job-queue.port.js' {
  interface JobPayloads {
    'report.generate': { runId: string };
    'report.deliver': { runId: string };
  }
}
