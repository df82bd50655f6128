import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InProcessPubSub } from './in-process.pubsub.js';
import type { PubSub } from './pubsub.port.js';

interface Channels {
  'live.aggregates': { accountId: string; total: number };
  'cache.invalidate': { key: string };
}

/** Compile-time checks: `npm run build` fails if the channel map stops being enforced. */
export function typeChecks(bus: PubSub<Channels>, app: PubSub): void {
  void bus.publish('cache.invalidate', { key: 'k' });
  bus.subscribe('live.aggregates', (m) => void m.total.toFixed());
  // @ts-expect-error a channel that is not in the map
  void bus.publish('cache.invalidated', { key: 'k' });
  // @ts-expect-error another channel's message
  void bus.publish('live.aggregates', { key: 'k' });
  // @ts-expect-error a handler of another channel's message
  bus.subscribe('cache.invalidate', (m: { total: number }) => void m);
  // The app's own map holds what the features registered, typed.
  app.subscribe('live.batch', (m) => void m.events.length);
  app.subscribe('auth.client-revoked', (m) => void m.secretHash.length);
  void app.publish('events.stored', { batch: 'b', count: 1 });
  // @ts-expect-error the app's channels are checked too
  void app.publish('events.stored', { batch: 'b' });
}

describe('pub/sub channel map', () => {
  it('delivers each channel its own messages', async () => {
    const bus = new InProcessPubSub<Channels>(() => undefined);
    const got = new Promise<number>((resolve) => bus.subscribe('live.aggregates', (m) => resolve(m.total)));
    await bus.publish('cache.invalidate', { key: 'k' });
    await bus.publish('live.aggregates', { accountId: 'a', total: 3 });
    assert.equal(await got, 3);
    await bus.close();
  });
});
