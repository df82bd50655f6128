import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toWireField } from '../../events/index.js';
import { decodeMessage, eventIdOf, profileFromTraits, SEGMENT_FIELD_NAMES, withBatchDefaults } from './segment-message.decoder.js';

const NOW = Date.parse('2024-05-01T12:00:00.000Z');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('Segment message decoder', () => {
  it('decodes track: the event name, properties, canonical context, the rest of context kept', () => {
    const r = decodeMessage(
      {
        userId: 'u1',
        event: 'Order Completed',
        properties: { total: 30 },
        messageId: 'm-1',
        timestamp: '2024-05-01T11:00:00.000Z',
        context: { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 X', locale: 'en-GB', library: { name: 'analytics-node', version: '3' } },
        integrations: { All: true },
        writeKey: 'secret',
        somethingNew: 1,
      },
      'track',
      { receivedAt: NOW },
    );
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.events.length, 1);
    const e = r.events[0]!;
    assert.equal(e.eventType, 'track');
    assert.equal(e.eventName, 'Order Completed');
    assert.equal(e.userId, 'u1');
    assert.equal(e.anonymousId, undefined);
    assert.equal(e.timestamp, '2024-05-01T11:00:00.000Z');
    assert.equal(e.eventId, eventIdOf('m-1'));
    assert.deepEqual(e.context, { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 X', locale: 'en-GB' });
    assert.deepEqual(e.properties, {
      total: 30,
      context: { library: { name: 'analytics-node', version: '3' } },
      integrations: { All: true },
      messageId: 'm-1',
      somethingNew: 1,
    });
    assert.ok(!JSON.stringify(e).includes('secret'), 'the write key is never stored');
  });

  it('keeps extras whose names the properties already use under __segment', () => {
    const r = decodeMessage({ anonymousId: 'a', event: 'x', properties: { context: 'mine' }, context: { library: { name: 'l' } } }, 'track', { receivedAt: NOW });
    assert.ok(r.ok);
    assert.deepEqual(r.events[0]!.properties, { context: 'mine', __segment: { context: { library: { name: 'l' } } } });
  });

  it('derives a stable UUID event id from the messageId, and none without one', () => {
    assert.match(eventIdOf('abc'), UUID);
    assert.equal(eventIdOf('abc'), eventIdOf('abc'));
    assert.notEqual(eventIdOf('abc'), eventIdOf('abd'));
    assert.notEqual(eventIdOf('abc'), eventIdOf('abc', 'alias'));
    const r = decodeMessage({ anonymousId: 'a', event: 'x' }, 'track', { receivedAt: NOW });
    assert.ok(r.ok);
    assert.equal(r.events[0]!.eventId, undefined);
  });

  it('corrects clock skew: receivedAt - (sentAt - originalTimestamp); an explicit timestamp wins', () => {
    const skewed = { anonymousId: 'a', event: 'x', originalTimestamp: '2024-05-01T12:59:00.000Z', sentAt: '2024-05-01T13:00:00.000Z' };
    const r = decodeMessage(skewed, 'track', { receivedAt: NOW });
    assert.ok(r.ok);
    assert.equal(r.events[0]!.timestamp, NOW - 60_000);
    const explicit = decodeMessage({ ...skewed, timestamp: '2024-05-01T10:00:00Z' }, 'track', { receivedAt: NOW });
    assert.ok(explicit.ok);
    assert.equal(explicit.events[0]!.timestamp, '2024-05-01T10:00:00Z');
    const onlyOriginal = decodeMessage({ anonymousId: 'a', event: 'x', originalTimestamp: '2024-05-01T11:00:00Z' }, 'track', { receivedAt: NOW });
    assert.ok(onlyOriginal.ok);
    assert.equal(onlyOriginal.events[0]!.timestamp, '2024-05-01T11:00:00Z');
    // A batch's sentAt serves its items.
    const batchItem = decodeMessage({ anonymousId: 'a', event: 'x', originalTimestamp: '2024-05-01T12:59:00.000Z' }, 'track', {
      receivedAt: NOW,
      batchSentAt: '2024-05-01T13:00:00.000Z',
    });
    assert.ok(batchItem.ok);
    assert.equal(batchItem.events[0]!.timestamp, NOW - 60_000);
    const none = decodeMessage({ anonymousId: 'a', event: 'x' }, 'track', { receivedAt: NOW });
    assert.ok(none.ok);
    assert.equal(none.events[0]!.timestamp, undefined, 'the ingest service takes the receive time');
    const bad = decodeMessage({ anonymousId: 'a', event: 'x', originalTimestamp: 'yesterday', sentAt: NOW }, 'track', { receivedAt: NOW });
    assert.ok(!bad.ok);
    assert.deepEqual(bad.errors.map((e) => e.field), ['originalTimestamp']);
  });

  it('maps page and screen calls to page_view / screen_view with the page, referrer and campaign', () => {
    const r = decodeMessage(
      {
        type: 'page',
        anonymousId: 'a',
        name: 'Pricing',
        category: 'Docs',
        properties: { url: 'https://shop.example.com/pricing?x=1', referrer: 'https://www.google.com/', title: 'Pricing – Shop' },
        context: { page: { path: '/pricing' }, campaign: { name: 'spring', source: 'newsletter', medium: 'email' } },
      },
      undefined,
      { receivedAt: NOW, at: 'batch[0]' },
    );
    assert.ok(r.ok, JSON.stringify(r));
    const e = r.events[0]!;
    assert.equal(e.eventType, 'track');
    assert.equal(e.eventName, 'page_view');
    assert.deepEqual(e.context?.page, {
      url: 'https://shop.example.com/pricing?x=1&utm_source=newsletter&utm_medium=email&utm_campaign=spring',
      referrer: 'https://www.google.com/',
      title: 'Pricing – Shop',
    });
    assert.equal(e.properties?.name, 'Pricing');
    assert.equal(e.properties?.category, 'Docs');
    assert.deepEqual((e.properties?.context as Record<string, unknown>).campaign, { name: 'spring', source: 'newsletter', medium: 'email' });
    // A URL's own UTM wins over the campaign's.
    const own = decodeMessage(
      { anonymousId: 'a', context: { page: { url: 'https://s.io/?utm_source=ads' }, campaign: { source: 'newsletter' } } },
      'page',
      { receivedAt: NOW },
    );
    assert.ok(own.ok);
    assert.equal(own.events[0]!.context?.page?.url, 'https://s.io/?utm_source=ads');
    const screen = decodeMessage({ userId: 'u', name: 'Home' }, 'screen', { receivedAt: NOW });
    assert.ok(screen.ok);
    assert.equal(screen.events[0]!.eventName, 'screen_view');
    assert.deepEqual(screen.events[0]!.properties, { name: 'Home' });
  });

  it('maps identify traits into the profile and links userId and anonymousId with an alias', () => {
    const r = decodeMessage(
      { userId: 'u1', anonymousId: 'anon-1', messageId: 'm-9', traits: { first_name: 'Ada', lastName: 'Lovelace', email: 'ada@x.io', plan: 'pro' } },
      'identify',
      { receivedAt: NOW },
    );
    assert.ok(r.ok);
    assert.deepEqual(
      r.events.map((e) => [e.eventType, e.eventName, e.userId, e.anonymousId]),
      [
        ['identify', 'identify', 'u1', 'anon-1'],
        ['alias', 'alias', 'u1', 'anon-1'],
      ],
    );
    assert.deepEqual(r.events[0]!.properties, { profile: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@x.io' }, properties: { plan: 'pro' }, messageId: 'm-9' });
    assert.deepEqual(r.events[1]!.properties, { alias: 'anon-1', via: 'identify' });
    assert.notEqual(r.events[0]!.eventId, r.events[1]!.eventId);
    const onlyUser = decodeMessage({ userId: 'u1', traits: {} }, 'identify', { receivedAt: NOW });
    assert.ok(onlyUser.ok);
    assert.equal(onlyUser.events.length, 1);
    assert.deepEqual(profileFromTraits({ firstName: 'A', first_name: 'B' }), { profile: { firstName: 'A' }, properties: { first_name: 'B' } });
  });

  it('maps alias (previousId → userId) and group (a group event plus the membership in the profile)', () => {
    const alias = decodeMessage({ previousId: 'anon-2', userId: 'u2' }, 'alias', { receivedAt: NOW });
    assert.ok(alias.ok);
    assert.deepEqual(alias.events.map((e) => [e.eventType, e.userId, e.properties]), [['alias', 'u2', { alias: 'anon-2' }]]);
    const group = decodeMessage({ userId: 'u2', groupId: 7, traits: { name: 'Initech' } }, 'group', { receivedAt: NOW });
    assert.ok(group.ok);
    assert.deepEqual(
      group.events.map((e) => [e.eventType, e.eventName, e.userId, e.properties]),
      [
        ['group', 'group', 'u2', { groupId: '7', traits: { name: 'Initech' } }],
        ['identify', 'identify', 'u2', { profile: {}, properties: { groupId: '7', group: { name: 'Initech' } } }],
      ],
    );
    const anonymousGroup = decodeMessage({ anonymousId: 'a', groupId: 'g' }, 'group', { receivedAt: NOW });
    assert.ok(anonymousGroup.ok);
    assert.equal(anonymousGroup.events.length, 1, 'no profile without a userId');
  });

  it('rejects what a call needs, naming the fields', () => {
    const fields = (raw: unknown, type?: 'track' | 'alias' | 'group', at?: string) => {
      const r = decodeMessage(raw, type, { receivedAt: NOW, at });
      assert.ok(!r.ok, JSON.stringify(raw));
      return r.errors.map((e) => e.field);
    };
    assert.deepEqual(fields({ userId: 'u' }, 'track'), ['event']);
    assert.deepEqual(fields({ event: 'x' }, 'track'), ['userId']);
    assert.deepEqual(fields({ userId: { a: 1 }, event: 'x' }, 'track'), ['userId']);
    assert.deepEqual(fields({ anonymousId: 'a' }, 'alias'), ['previousId', 'userId']);
    assert.deepEqual(fields({ userId: 'u' }, 'group'), ['groupId']);
    assert.deepEqual(fields({ type: 'track', userId: 'u', messageId: 'm' }, undefined, 'batch[3]'), ['batch[3].event']);
    assert.deepEqual(fields({ type: 'nope', userId: 'u' }, undefined, 'batch[1]'), ['batch[1].type']);
    assert.deepEqual(fields('text', undefined, 'batch[2]'), ['batch[2]']);
    assert.deepEqual(fields({ userId: 'u', event: 'x', properties: [1] }, 'track'), ['properties']);
    const r = decodeMessage({ type: 'track', userId: 'u', messageId: 'm-3' }, undefined, { receivedAt: NOW, at: 'batch[3]' });
    assert.ok(!r.ok);
    assert.equal(r.messageId, 'm-3');
    assert.equal(toWireField('eventName', SEGMENT_FIELD_NAMES), 'event');
    assert.equal(toWireField('eventId', SEGMENT_FIELD_NAMES), 'messageId');
  });

  it('merges the batch context one level deep, and integrations, the item’s keys winning', () => {
    const item = withBatchDefaults(
      { type: 'track', context: { page: { url: 'https://a.io/' }, library: { version: '2' } }, integrations: { Mixpanel: false } },
      { batch: [], context: { library: { name: 'analytics-node', version: '1' }, ip: '1.2.3.4' }, integrations: { All: true, Mixpanel: true } },
    );
    assert.deepEqual(item, {
      type: 'track',
      context: { library: { name: 'analytics-node', version: '2' }, ip: '1.2.3.4', page: { url: 'https://a.io/' } },
      integrations: { All: true, Mixpanel: false },
    });
    assert.deepEqual(withBatchDefaults({ type: 'track' }, { batch: [] }), { type: 'track' });
  });

  it('uses a session id the sender gives in properties or context, none otherwise', () => {
    const r = decodeMessage({ anonymousId: 'a', event: 'x', properties: { sessionId: 42 } }, 'track', { receivedAt: NOW });
    assert.ok(r.ok);
    assert.equal(r.events[0]!.sessionId, '42');
    const c = decodeMessage({ anonymousId: 'a', event: 'x', context: { sessionId: 's-1' } }, 'track', { receivedAt: NOW });
    assert.ok(c.ok);
    assert.equal(c.events[0]!.sessionId, 's-1');
    const none = decodeMessage({ anonymousId: 'a', event: 'x' }, 'track', { receivedAt: NOW });
    assert.ok(none.ok);
    assert.equal(none.events[0]!.sessionId, undefined);
  });
});
