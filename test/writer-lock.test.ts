import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InProcessWriterLock } from '../src/infrastructure/lock/in-process.writer-lock.js';
import { RedisWriterLock } from '../src/infrastructure/lock/redis.writer-lock.js';
import type { WriterLock } from '../src/infrastructure/lock/writer-lock.port.js';
import { needs, REDIS_URL } from './support/services.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two holders contend for one name (two replicas, or two batches of one process). */
function writerLockContract(name: string, open: () => Promise<[WriterLock, WriterLock]>, skip: false | string = false) {
  describe(`writer lock (${name})`, { skip }, () => {
    it('never lets two runs of one name overlap, and frees the lock when a run fails', async () => {
      const [a, b] = await open();
      try {
        let inside = 0;
        let most = 0;
        const order: string[] = [];
        const work = (lock: WriterLock, label: string, fail = false) =>
          lock.run('sessions', async () => {
            inside++;
            most = Math.max(most, inside);
            await sleep(15);
            order.push(label);
            inside--;
            if (fail) throw new Error(`${label} failed`);
            return label;
          });
        const results = await Promise.allSettled([
          work(a, 'a1'),
          work(b, 'b1'),
          work(a, 'a2', true),
          work(b, 'b2'),
          work(a, 'a3'),
        ]);
        assert.equal(most, 1, 'one run at a time');
        assert.equal(order.length, 5);
        assert.deepEqual(
          results.map((r) => r.status),
          ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
        );
        // Another name is not held up.
        const other = await a.run('other', async () => 'free');
        assert.equal(other, 'free');
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
}

writerLockContract('in-process', async () => {
  const lock = new InProcessWriterLock();
  return [lock, lock];
});

const prefix = `test-lock-${process.pid}-${Date.now()}:`;
writerLockContract(
  'Redis',
  async () => [await RedisWriterLock.connect(REDIS_URL, { prefix }), await RedisWriterLock.connect(REDIS_URL, { prefix })],
  await needs('redis'),
);

describe('writer lock on Redis, a holder that died', { skip: await needs('redis') }, () => {
  it('is taken over once the dead holder’s expiry passes, and a live holder renews its own', async () => {
    const p = `${prefix}dead:`;
    const dead = await RedisWriterLock.connect(REDIS_URL, { prefix: p, ttlMs: 300 });
    const live = await RedisWriterLock.connect(REDIS_URL, { prefix: p, ttlMs: 300, retryMs: 10 });
    const { Redis } = await import('ioredis');
    const raw = new Redis(REDIS_URL);
    try {
      // The dead holder: took the lock and never released it (its process is gone).
      await raw.set(`${p}sessions`, 'someone-else', 'PX', 300);
      const started = performance.now();
      await live.run('sessions', async () => undefined);
      const waited = performance.now() - started;
      assert.ok(waited >= 150, `waited ${waited.toFixed(0)} ms for the expiry`);
      // A run longer than the expiry keeps its lock by renewing it: nobody else gets in.
      let overlapped = false;
      let holding = false;
      const long = live.run('sessions', async () => {
        holding = true;
        await sleep(900);
        holding = false;
      });
      await sleep(20);
      await dead.run('sessions', async () => {
        overlapped = holding;
      });
      await long;
      assert.equal(overlapped, false);
    } finally {
      await Promise.all([dead.close(), live.close(), raw.quit()]);
    }
  });
});
