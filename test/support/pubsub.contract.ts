import assert from 'node:assert/strict';
import { describe, it as test } from 'node:test';
import type { PubSub } from '../../src/infrastructure/pubsub/pubsub.port.js';

const nextTick = () => new Promise((r) => setTimeout(r, 50));

/** These tests make up channel names, so their bus carries any message on any channel. */
export type AnyChannels = Record<string, unknown>;

/**
 * The pub/sub port's contract. `open` makes one instance per call: for Redis, two instances are
 * two replicas, and a message published on one must reach subscribers on the other.
 */
export function pubSubContract(
  name: string,
  open: (onError?: (err: unknown) => void) => Promise<PubSub<AnyChannels>>, options: { shared: boolean }, skip: false | string = false) {
  describe(`pub/sub contract: ${name}`, () => {
    // Skipped per test (not per suite) so the runner counts and reports every skipped test.
    const it = (title: string, fn: () => Promise<void>) => test(title, { skip }, fn);
    it('delivers a copy of each message to every subscriber of the channel', async () => {
      const bus = await open();
      const got: unknown[] = [];
      const channel = `c-${Math.random()}`;
      bus.subscribe(channel, (m) => void got.push(m));
      const off = bus.subscribe(channel, (m) => void got.push(m));
      bus.subscribe(`${channel}-other`, () => void got.push('wrong channel'));
      await bus.ready();
      await bus.publish(channel, { n: 1 });
      await nextTick();
      assert.deepEqual(got, [{ n: 1 }, { n: 1 }]);
      off();
      await bus.publish(channel, { n: 2 });
      await nextTick();
      assert.deepEqual(got, [{ n: 1 }, { n: 1 }, { n: 2 }]);
      await bus.close();
    });

    if (options.shared) {
      it('reaches subscribers of another replica', async () => {
        const a = await open();
        const b = await open();
        const channel = `x-${Math.random()}`;
        const got: unknown[] = [];
        b.subscribe(channel, (m) => void got.push(m));
        await b.ready();
        await a.publish(channel, { from: 'a' });
        const deadline = Date.now() + 2000;
        while (got.length === 0 && Date.now() < deadline) await nextTick();
        assert.deepEqual(got, [{ from: 'a' }]);
        await a.close();
        await b.close();
      });
    }

    it('reports a failing subscriber without losing the others', async () => {
      const errors: unknown[] = [];
      const bus = await open((e) => errors.push(e));
      const channel = `e-${Math.random()}`;
      const got: unknown[] = [];
      bus.subscribe(channel, () => {
        throw new Error('boom');
      });
      bus.subscribe(channel, (m) => void got.push(m));
      await bus.ready();
      await bus.publish(channel, 1);
      await nextTick();
      assert.deepEqual(got, [1]);
      assert.equal(errors.length, 1);
      await bus.close();
    });
  });
}
