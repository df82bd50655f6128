import assert from 'node:assert/strict';
import { describe, it as test } from 'node:test';
import type { JobEvents } from '../../src/infrastructure/queue/in-process.job-queue.js';
import { type JobQueue, UnknownJobError } from '../../src/infrastructure/queue/job-queue.port.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet: JobEvents = { failed: () => undefined };

/** The jobs these tests use (a payload map of their own, so the app's map stays the app's). */
export interface ContractJobs {
  flaky: { x: number };
  slow: Record<string, never>;
  nobody: Record<string, never>;
  one: Record<string, never>;
  orphan: Record<string, never>;
  tick: Record<string, never>;
}

/**
 * The job queue port's contract. `open(scope, events)` makes a queue; two queues opened with the
 * same scope are two replicas sharing one backlog (Bull), or unrelated (in-process).
 */
export function jobQueueContract(
  name: string,
  open: (scope: string, events?: JobEvents, concurrency?: number) => Promise<JobQueue<ContractJobs>>,
  options: { shared: boolean },
  skip: false | string = false,
) {
  describe(`job queue contract: ${name}`, () => {
    // Skipped per test (not per suite) so the runner counts and reports every skipped test.
    const it = (title: string, fn: () => Promise<void>) => test(title, { skip }, fn);
    const scope = () => `s${Math.random().toString(36).slice(2, 8)}`;

    it('retries a failing job with backoff until it succeeds', async () => {
      const failures: number[] = [];
      const q = await open(scope(), { failed: (job) => failures.push(job.attempt) });
      q.declare('flaky');
      let calls = 0;
      const done = new Promise<number>((resolve) => {
        q.register('flaky', async (payload, meta) => {
          calls++;
          if (meta.attempt < 3) throw new Error('not yet');
          resolve(payload.x);
        });
      });
      await q.start();
      await q.enqueue('flaky', { x: 42 }, { attempts: 3, backoffMs: 10 });
      assert.equal(await done, 42);
      assert.equal(calls, 3);
      assert.deepEqual(failures, [1, 2]);
      await q.close();
    });

    it('runs at most `concurrency` jobs at once per process', async () => {
      const q = await open(scope(), quiet, 2);
      q.declare('slow');
      let running = 0;
      let peak = 0;
      let finished = 0;
      q.register('slow', async () => {
        running++;
        peak = Math.max(peak, running);
        await sleep(30);
        running--;
        finished++;
      });
      await q.start();
      await Promise.all(Array.from({ length: 6 }, () => q.enqueue('slow', {})));
      const deadline = Date.now() + 10_000;
      while (finished < 6 && Date.now() < deadline) await sleep(10);
      assert.equal(finished, 6);
      assert.equal(peak, 2);
      await q.close();
    });

    it('refuses undeclared jobs, a second handler, and starting with a job nobody handles', async () => {
      const q = await open(scope());
      await assert.rejects(q.enqueue('nobody', {}), UnknownJobError);
      q.declare('one');
      q.register('one', async () => undefined);
      assert.throws(() => q.register('one', async () => undefined), /already has a handler/);
      q.declare('orphan');
      await assert.rejects(q.start(), /no handler is registered for job\(s\): orphan/);
      await assert.rejects(q.schedule('one', 'not a cron', {}));
      await q.close();
    });

    it(`runs a cron schedule${options.shared ? ' once per tick across replicas' : ''}`, async () => {
      const s = scope();
      const replicas = await Promise.all(Array.from({ length: options.shared ? 2 : 1 }, () => open(s)));
      const ticks: number[] = [];
      const started = Date.now();
      for (const q of replicas) {
        q.declare('tick');
        q.register('tick', async () => void ticks.push(Date.now()));
        await q.start();
        await q.schedule('tick', '* * * * * *', {}); // every second, declared by each replica
      }
      await sleep(3500);
      for (const q of replicas) await q.close();
      // Ticks can run from the first schedule until the last replica closes (on a loaded machine,
      // well over 3.5 s); at most one per second of that, and never one tick run twice (a tick run
      // by both replicas would run twice within a few ms).
      const seconds = (Date.now() - started) / 1000;
      assert.ok(ticks.length >= 2 && ticks.length <= Math.ceil(seconds) + 1, `ran ${ticks.length} times in ${seconds.toFixed(1)} s`);
      const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!);
      assert.ok(gaps.every((gap) => gap > 100), `ticks ${gaps.join(', ')} ms apart`);
    });
  });
}
