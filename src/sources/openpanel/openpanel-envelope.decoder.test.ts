import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toWireField } from '../../events/index.js';
import { decodeEnvelope, OPENPANEL_FIELD_NAMES } from './openpanel-envelope.decoder.js';

describe('OpenPanel envelope decoder', () => {
  it('decodes a track envelope into the canonical event, __ip as its context.ip', () => {
    const decoded = decodeEnvelope({
      type: 'track',
      payload: { name: 'page_view', profileId: 7, properties: { __ip: '203.0.113.7', __path: 'https://shop.example.com/a', plan: 'pro' } },
    });
    assert.ok(decoded.ok);
    const { event } = decoded.envelope;
    assert.equal(event.eventType, 'track');
    assert.equal(event.eventName, 'page_view');
    assert.equal(event.userId, '7');
    assert.equal(event.anonymousId, undefined, 'the cookieless device is the ingest service’s step');
    assert.deepEqual(event.context, { page: { url: 'https://shop.example.com/a', referrer: undefined, title: undefined }, ip: '203.0.113.7' });
    assert.deepEqual(event.properties, { plan: 'pro' });
  });

  it('names envelope fields in its own errors, and maps the canonical ones for the ingest service', () => {
    const decoded = decodeEnvelope({ type: 'track', payload: {} }, 'events[2]');
    assert.ok(!decoded.ok);
    assert.deepEqual(decoded.errors.map((e) => e.field), ['events[2].payload.name']);
    assert.equal(toWireField('timestamp', OPENPANEL_FIELD_NAMES), 'payload.properties.__timestamp');
    assert.equal(toWireField('anonymousId', OPENPANEL_FIELD_NAMES), 'payload.deviceId');
  });
});
