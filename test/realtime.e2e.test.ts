import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { IngestPipelineService } from '../src/events/ingest-pipeline.service.js';
import { LiveHub } from '../src/realtime/live-hub.service.js';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';
import { connectWs, liveToken } from './support/ws.js';

describe('live over /ws/analytics and /ws/metrics/:id (embedded)', () => {
  let t: TestApp;
  let acme: Credentials;
  let globex: Credentials;
  const ingest = async (events: Record<string, unknown>[], secret = acme.write) => {
    const res = await call(t.url, 'POST', '/api/events/batch', { secret, body: { events } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return Date.now();
  };
  /** Connects, waits for `ready`, and gives the hub's announcement a moment to reach the publisher. */
  const dashboard = async (secret = acme.read) => {
    const ws = await connectWs(t.url, await liveToken(t.url, secret));
    await ws.next('ready');
    return ws;
  };

  before(async () => {
    t = await startApp({ LIVE_HEARTBEAT: '1', LIVE_METRIC_INTERVAL: '1', LIVE_MAX_MESSAGES_PER_SECOND: '50' });
    acme = await createAccount(t.url, 'acme');
    globex = await createAccount(t.url, 'globex');
  });
  after(async () => t?.close());

  it('trades a read credential for a short-lived token, and refuses sockets without a valid one with a clear code', async () => {
    const issued = await call(t.url, 'POST', '/api/live/tokens', { secret: acme.read, body: { ttlSeconds: 60 } });
    assert.equal(issued.status, 201);
    assert.equal(issued.body.accountId, acme.accountId);
    assert.ok(Date.parse(issued.body.expiresAt) - Date.now() <= 60_000);
    assert.equal((await call(t.url, 'POST', '/api/live/tokens', { secret: acme.write })).status, 403, 'write clients only ingest');
    assert.equal((await call(t.url, 'POST', '/api/live/tokens', { secret: 'sk_nope' })).status, 401);
    assert.equal((await call(t.url, 'POST', '/api/live/tokens', { secret: acme.read, body: { ttlSeconds: 5 } })).status, 400);

    const ws = await connectWs(t.url, issued.body.token);
    const ready = await ws.next('ready');
    assert.equal(ready.accountId, acme.accountId);
    assert.equal(ready.protocol, 1);
    assert.deepEqual(ready.limits, { maxMessageBytes: 16384, maxMessagesPerSecond: 50, queue: 200 });
    ws.close();

    const cases: [string | { secret: string } | undefined, number, RegExp][] = [
      [undefined, 4401, /missing credentials/],
      ['not.a-token', 4401, /invalid or expired live token/],
      [`${issued.body.token.slice(0, -2)}xx`, 4401, /invalid or expired/],
      [{ secret: 'sk_not_a_key' }, 4401, /invalid credentials/],
      [{ secret: acme.write }, 4403, /write clients may only ingest/],
    ];
    for (const [auth, code, reason] of cases) {
      const refused = await connectWs(t.url, auth);
      const closed = await refused.closed;
      assert.equal(closed.code, code, JSON.stringify(auth));
      assert.match(closed.reason, reason);
    }
    // A server may use its secret in the header.
    const server = await connectWs(t.url, { secret: acme.admin });
    assert.equal((await server.next('ready')).accountId, acme.accountId);
    server.close();
  });

  it('streams the account’s events as they are acknowledged, filtered, after a snapshot; another account hears nothing', async () => {
    const ws = await dashboard();
    const other = await dashboard(globex.read);
    other.send({ type: 'subscribe', id: 'all', topic: 'events' });
    await ingest([{ eventType: 'page', eventName: 'before_subscribe', properties: { plan: 'pro' } }]);
    ws.send({ type: 'subscribe', id: 'signups', topic: 'events', filter: { eventName: 'signup', properties: { plan: 'pro' } } });
    assert.deepEqual((await ws.next('subscribed')).topic, 'events');
    const snapshot = await ws.next('events', 2000, (m) => m.snapshot);
    assert.equal(snapshot.subscription, 'signups');
    assert.deepEqual(snapshot.events, [], 'the recent events: none matches yet');
    const acked = await ingest([
      { eventType: 'click', eventName: 'signup', properties: { plan: 'pro', n: 1 }, userId: 'u1' },
      { eventType: 'click', eventName: 'signup', properties: { plan: 'free' } },
      { eventType: 'page', eventName: 'page_view', properties: { plan: 'pro' } },
    ]);
    const live = await ws.next('events', 2000, (m) => !m.snapshot);
    assert.equal(live.sampleRate, 1);
    assert.equal(live.matched, 1);
    assert.equal(live.events.length, 1);
    assert.deepEqual({ name: live.events[0].eventName, userId: live.events[0].userId, properties: live.events[0].properties }, { name: 'signup', userId: 'u1', properties: { plan: 'pro', n: 1 } });
    const latency = live.arrivedAt - acked;
    assert.ok(latency < 1000, `arrived ${latency} ms after the ack`);
    // A second subscriber's snapshot holds the recent matching events.
    ws.send({ type: 'subscribe', id: 'again', topic: 'events', filter: { eventName: 'signup' } });
    const again = await ws.next('events', 2000, (m) => m.subscription === 'again');
    assert.equal(again.snapshot, true);
    assert.equal(again.events.length, 2);
    ws.send({ type: 'unsubscribe', id: 'again' });
    assert.equal((await ws.next('unsubscribed')).subscription, 'again');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(other.messages.filter((m) => m.type === 'events' && !m.snapshot).length, 0, 'globex hears nothing of acme');
    ws.close();
    other.close();
  });

  it('samples above maxPerSecond and says so in each message', async () => {
    const ws = await dashboard();
    ws.send({ type: 'subscribe', id: 'sampled', topic: 'events', filter: { eventName: 'burst' }, maxPerSecond: 10 });
    await ws.next('events', 2000, (m) => m.snapshot);
    await ingest(Array.from({ length: 200 }, (_, i) => ({ eventType: 'x', eventName: 'burst', properties: { i } })));
    const m = await ws.next('events', 2000, (x) => !x.snapshot);
    assert.equal(m.matched, 200);
    assert.equal(m.events.length, 10);
    assert.equal(m.sampleRate, 0.05);
    // An even spread of the batch, not its first ten.
    assert.deepEqual(m.events.map((e: { properties: { i: number } }) => e.properties.i), [0, 20, 40, 60, 80, 100, 120, 140, 160, 180]);
    ws.close();
  });

  it('sends counters every second: events per second, top names, active users and sessions', async () => {
    const ws = await dashboard();
    ws.send({ type: 'subscribe', id: 'c', topic: 'counters', top: 2 });
    assert.ok((await ws.next('counters', 2000)).snapshot);
    await ingest([
      ...Array.from({ length: 3 }, () => ({ eventType: 'x', eventName: 'alpha', userId: 'a', sessionId: 's1' })),
      ...Array.from({ length: 2 }, () => ({ eventType: 'x', eventName: 'beta', userId: 'b', sessionId: 's2' })),
      { eventType: 'x', eventName: 'gamma', userId: 'c', sessionId: 's3' },
    ]);
    await t.app.get(IngestPipelineService).flush();
    const counted = await ws.next('counters', 4000, (m) => !m.snapshot && m.eventsPerSecond === 6);
    assert.deepEqual(counted.byName, [{ name: 'alpha', count: 3 }, { name: 'beta', count: 2 }]);
    const active = await ws.next('counters', 8000, (m) => m.activeUsers >= 3);
    assert.ok(active.activeSessions >= 3);
    assert.equal(typeof active.liveVisitors, 'number');
    // Then quiet seconds count 0.
    await ws.next('counters', 4000, (m) => !m.snapshot && m.eventsPerSecond === 0);
    ws.close();
  });

  it('streams a custom metric on a subscription and on /ws/metrics/:id; another account’s metric is refused', async () => {
    const metric = await call(t.url, 'POST', '/api/metrics', { secret: acme.admin, body: { name: 'Orders', type: 'counter', aggregation: 'count', eventName: 'order', unit: 'orders' } });
    const id = metric.body.id;
    await ingest(Array.from({ length: 4 }, () => ({ eventType: 'x', eventName: 'order' })));
    await t.app.get(IngestPipelineService).flush();
    const ws = await dashboard();
    ws.send({ type: 'subscribe', id: 'orders', topic: 'metric', metricId: id, points: 5 });
    const snap = await ws.next('metric', 3000);
    assert.equal(snap.snapshot, true);
    assert.equal(snap.name, 'Orders');
    assert.equal(snap.unit, 'orders');
    assert.equal(snap.points.length, 5);
    assert.equal(snap.value, 4);
    await ingest([{ eventType: 'x', eventName: 'order' }]);
    await t.app.get(IngestPipelineService).flush();
    await ws.next('metric', 4000, (m) => !m.snapshot && m.value === 5);

    ws.send({ type: 'subscribe', id: 'theirs', topic: 'metric', metricId: 'no-such-metric' });
    const error = await ws.next('error');
    assert.deepEqual({ code: error.code, subscription: error.subscription }, { code: 'not_found', subscription: 'theirs' });
    ws.close();

    const stream = await connectWs(t.url, await liveToken(t.url, acme.read), `/ws/metrics/${id}`);
    const first = await stream.next('metric', 3000);
    assert.equal(first.subscription, id);
    assert.equal(first.metricId, id);
    await stream.next('metric', 4000, (m) => !m.snapshot);
    stream.close();
    const foreign = await connectWs(t.url, await liveToken(t.url, globex.read), `/ws/metrics/${id}`);
    const closed = await foreign.closed;
    assert.equal(closed.code, 4404);
    assert.match(closed.reason, /no metric .* in this account/);
  });

  it('answers bad and unknown messages with an error and stays open; closes oversized ones with 1009', async () => {
    const ws = await dashboard();
    ws.send({ type: 'shout' });
    assert.equal((await ws.next('error')).code, 'unknown_type');
    ws.send('not json');
    assert.match((await ws.next('error')).message, /JSON object/);
    ws.send({ type: 'subscribe', id: 'x', topic: 'events', maxPerSecond: 0 });
    const bad = await ws.next('error');
    assert.deepEqual({ code: bad.code, subscription: bad.subscription }, { code: 'bad_message', subscription: 'x' });
    assert.match(bad.message, /maxPerSecond/);
    ws.send({ type: 'ping' });
    await ws.next('pong');
    ws.send({ type: 'subscribe', id: 'big', topic: 'events', filter: { eventName: 'x'.repeat(20_000) } });
    assert.equal((await ws.closed).code, 1009);
  });

  it('ends a socket whose peer stopped answering pings', async () => {
    const hub = t.app.get(LiveHub);
    // The earlier tests' sockets are closing; count from none.
    for (let i = 0; i < 100 && hub.sockets > 0; i++) await new Promise((r) => setTimeout(r, 50));
    const before = hub.sockets;
    assert.equal(before, 0);
    const silent = new WebSocket(`${t.url.replace('http', 'ws')}/ws/analytics?token=${await liveToken(t.url, acme.read)}`, { autoPong: false });
    await new Promise((r) => silent.once('open', r));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(hub.sockets, before + 1);
    const closed = await new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
    assert.equal(closed, 1006, 'terminated, without a close handshake');
    assert.equal(hub.sockets, before);
  });
});
