import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InProcessJobQueue } from './in-process.job-queue.js';
import type { JobQueue } from './job-queue.port.js';

interface Jobs {
  'report.generate': { reportId: string };
  'alert.evaluate': { alertId: string; at: number };
}

/** Compile-time checks: `npm run build` fails if the payload map stops being enforced. */
export function typeChecks(q: JobQueue<Jobs>): void {
  q.declare('report.generate');
  void q.enqueue('alert.evaluate', { alertId: 'a', at: 1 });
  q.register('report.generate', async (payload) => void payload.reportId.toUpperCase());
  // @ts-expect-error a job that is not in the map
  q.declare('report.generat');
  // @ts-expect-error another job's payload
  void q.enqueue('report.generate', { alertId: 'a', at: 1 });
  // @ts-expect-error a payload missing a field
  void q.schedule('alert.evaluate', '* * * * *', { alertId: 'a' });
  // @ts-expect-error a handler of another job's payload
  q.register('alert.evaluate', async (payload: { reportId: string }) => void payload);
}

describe('job payload map', () => {
  it('hands the handler the payload enqueued under its name', async () => {
    const q = new InProcessJobQueue<Jobs>({ failed: () => undefined });
    q.declare('report.generate');
    const got = new Promise<string>((resolve) => q.register('report.generate', async ({ reportId }) => resolve(reportId)));
    await q.start();
    await q.enqueue('report.generate', { reportId: 'r-1' });
    assert.equal(await got, 'r-1');
    await q.close();
  });
});
