import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InProcessJobQueue } from './in-process.job-queue.js';
import { UnknownJobError } from './job-queue.port.js';

describe('InProcessJobQueue', () => {
  it('retries a failing job with backoff until it succeeds', async () => {
    const failures: number[] = [];
    const q = new InProcessJobQueue({ failed: (job) => failures.push(job.attempt) });
    let calls = 0;
    const done = new Promise<number>((resolve) => {
      q.register<{ x: number }>('flaky', async (payload, meta) => {
        calls++;
        if (meta.attempt < 3) throw new Error('not yet');
        resolve(payload.x);
      });
    });
    await q.enqueue('flaky', { x: 42 }, { attempts: 3, backoffMs: 1 });
    assert.equal(await done, 42);
    assert.equal(calls, 3);
    assert.deepEqual(failures, [1, 2]);
    await q.close();
  });

  it('runs at most `concurrency` jobs of a name at once', async () => {
    const q = new InProcessJobQueue({ failed: () => undefined });
    let running = 0;
    let peak = 0;
    let finished = 0;
    q.register('slow', async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      finished++;
    }, { concurrency: 2 });
    await Promise.all(Array.from({ length: 6 }, () => q.enqueue('slow', {})));
    while (finished < 6) await new Promise((r) => setTimeout(r, 5));
    assert.equal(peak, 2);
    await q.close();
  });

  it('refuses a job nobody handles and a second handler for one name', async () => {
    const q = new InProcessJobQueue({ failed: () => undefined });
    await assert.rejects(q.enqueue('nobody', {}), UnknownJobError);
    q.register('one', async () => undefined);
    assert.throws(() => q.register('one', async () => undefined), /already has a handler/);
    await q.close();
  });
});
