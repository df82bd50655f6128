import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LiveEvent } from '../events/index.js';
import { LiveConnection, sampleFor, type SocketLike, type Subscription } from './live-connection.js';
import type { ServerMessage } from './live-protocol.js';

/** A socket that records what it was sent; `bufferedAmount` can be set to play a slow reader. */
class FakeSocket implements SocketLike {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: ServerMessage[] = [];
  send(data: string): void {
    this.sent.push(JSON.parse(data) as ServerMessage);
  }
  ping(): void {}
  terminate(): void {}
}

const event = (i: number): LiveEvent => ({ eventId: `e${i}`, eventType: 't', eventName: 'n', timestamp: '2026-01-01T00:00:00Z', properties: { i }, receivedAt: 0 });
const events = (sub: string, from: number, n: number): ServerMessage => ({
  type: 'events',
  subscription: sub,
  snapshot: false,
  sampleRate: 1,
  matched: n,
  events: Array.from({ length: n }, (_, k) => event(from + k)),
});

describe('a live connection', () => {
  it('sends at once within its budget, then coalesces a subscription’s events into the next message', () => {
    let now = 0;
    const socket = new FakeSocket();
    const conn = new LiveConnection(socket, 'a', { maxMessagesPerSecond: 2, queue: 10 }, () => now);
    conn.push(events('s', 0, 1));
    conn.push(events('s', 1, 1));
    conn.push(events('s', 2, 3));
    conn.push(events('s', 5, 2));
    assert.equal(socket.sent.length, 2, 'two messages a second');
    assert.equal(conn.waiting, 1, 'the rest merged into one');
    now = 600; // more than half a second: one token back
    conn.push({ type: 'pong' });
    const merged = socket.sent[2] as Extract<ServerMessage, { type: 'events' }>;
    assert.deepEqual(merged.events.map((e) => e.eventId), ['e2', 'e3', 'e4', 'e5', 'e6']);
    assert.equal(merged.matched, 5);
    conn.close();
  });

  it('replaces a waiting counters update with the newer one', () => {
    const socket = new FakeSocket();
    const conn = new LiveConnection(socket, 'a', { maxMessagesPerSecond: 1, queue: 10 }, () => 0);
    const counters = (n: number): ServerMessage => ({ type: 'counters', subscription: 'c', snapshot: false, at: '', eventsPerSecond: n, byName: [], activeUsers: 0, activeSessions: 0, liveVisitors: 0 });
    conn.push(counters(1));
    conn.push(counters(2));
    conn.push(counters(3));
    assert.equal(conn.waiting, 1);
    conn.close();
  });

  it('holds at most its queue for a slow reader, drops the oldest, and says how many', () => {
    let now = 0;
    const socket = new FakeSocket();
    socket.bufferedAmount = 5 * 1024 * 1024; // not reading
    const conn = new LiveConnection(socket, 'a', { maxMessagesPerSecond: 100, queue: 3 }, () => now);
    for (let i = 0; i < 10; i++) conn.push({ type: 'error', code: `c${i}`, message: '' });
    assert.equal(socket.sent.length, 0);
    assert.equal(conn.waiting, 3);
    socket.bufferedAmount = 0;
    now = 1000;
    conn.push({ type: 'pong' });
    assert.deepEqual(socket.sent[0], { type: 'dropped', count: 8 });
    assert.deepEqual(socket.sent.slice(1).map((m) => (m.type === 'error' ? m.code : m.type)), ['c8', 'c9', 'pong']);
    conn.close();
  });
});

describe('sampling an events subscription', () => {
  const sub = (max: number): Extract<Subscription, { topic: 'events' }> => ({ id: 's', topic: 'events', filter: {}, maxPerSecond: max, budget: { tokens: max, at: 0, unsent: 0 } });
  const batch = (n: number) => Array.from({ length: n }, (_, i) => event(i));

  it('sends all within maxPerSecond, an even sample above it, and carries over what it skipped into the next rate', () => {
    const s = sub(4);
    const first = sampleFor(s, batch(3), 0) as Extract<ServerMessage, { type: 'events' }>;
    assert.deepEqual([first.events.length, first.sampleRate, first.matched], [3, 1, 3]);
    const second = sampleFor(s, batch(10), 0) as Extract<ServerMessage, { type: 'events' }>;
    assert.deepEqual([second.events.length, second.sampleRate, second.matched], [1, 0.1, 10]);
    assert.equal(sampleFor(s, batch(6), 100), null, 'the budget is spent (0.4 of an event back)');
    const next = sampleFor(s, batch(2), 600) as Extract<ServerMessage, { type: 'events' }>;
    assert.deepEqual([next.events.length, next.matched, next.sampleRate], [2, 8, 0.25], 'the 6 skipped count in the next message');
  });

  it('spreads the sample over a steady stream instead of giving the first batches of each second all of it', () => {
    const s = sub(100);
    const sizes: number[] = [];
    // 100 batches of 50 a second for 2 s, after the first second's burst.
    for (let t = 0; t < 2000; t += 10) sizes.push((sampleFor(s, batch(50), t) as Extract<ServerMessage, { type: 'events' }> | null)?.events.length ?? 0);
    const steady = sizes.slice(100);
    assert.ok(steady.every((n) => n <= 2), `at most 2 events a batch once steady: ${steady.join(',')}`);
    assert.ok(steady.reduce((a, b) => a + b, 0) >= 95, 'about maxPerSecond a second');
  });

  it('shares one serialized events array among the sockets a whole batch goes to', () => {
    const events = batch(3);
    const a = sampleFor(sub(10), events, 0) as Extract<ServerMessage, { type: 'events' }>;
    const b = sampleFor(sub(10), events, 0) as Extract<ServerMessage, { type: 'events' }>;
    assert.equal(a.events, events);
    assert.equal(b.events, events);
  });

  it('filters by type, name and property equality', () => {
    const s: Extract<Subscription, { topic: 'events' }> = { ...sub(10), filter: { eventName: 'n', properties: { i: 2 } } };
    const m = sampleFor(s, [event(1), event(2), event(3)], 0) as Extract<ServerMessage, { type: 'events' }>;
    assert.deepEqual(m.events.map((e) => e.eventId), ['e2']);
  });
});
