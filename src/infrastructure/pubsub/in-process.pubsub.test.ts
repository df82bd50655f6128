import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InProcessPubSub } from './in-process.pubsub.js';

describe('InProcessPubSub', () => {
  it('delivers a copy to each subscriber of the channel, asynchronously', async () => {
    const errors: unknown[] = [];
    const bus = new InProcessPubSub((err) => errors.push(err));
    const got: unknown[] = [];
    const message = { n: 1 };
    bus.subscribe('a', (m) => void got.push(m));
    const off = bus.subscribe('a', (m) => void got.push(m));
    bus.subscribe('b', () => void got.push('wrong channel'));
    await bus.publish('a', message);
    assert.equal(got.length, 0, 'not delivered synchronously');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got, [{ n: 1 }, { n: 1 }]);
    assert.notEqual(got[0], message, 'a copy, as over Redis');
    off();
    await bus.publish('a', { n: 2 });
    await new Promise((r) => setImmediate(r));
    assert.equal(got.length, 3);
    bus.subscribe('c', () => {
      throw new Error('boom');
    });
    await bus.publish('c', {});
    await new Promise((r) => setImmediate(r));
    assert.equal(errors.length, 1, 'a failing subscriber is reported, not thrown at the publisher');
  });
});
