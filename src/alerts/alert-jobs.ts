/** The alerts feature's jobs: judging an alert's windows up to one that closed, and sending one delivery of the outbox. */
export const EVALUATE_JOB = 'alert.evaluate';
export const DELIVER_JOB = 'alert.deliver';

declare module '../infrastructure/queue/job-queue.port.js' {
  interface JobPayloads {
    'alert.evaluate': { alertId: string; windowEnd: number };
    'alert.deliver': { deliveryId: string };
  }
}
