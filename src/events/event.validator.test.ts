import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateEvent } from './event.validator.js';

const now = Date.parse('2026-06-01T12:00:00Z');
const ctx = { accountId: 'acct', now, retentionDays: 90 };
const fields = (raw: unknown) => {
  const r = validateEvent(raw, ctx);
  return r.ok ? [] : r.errors.map((e) => e.field);
};

describe('validateEvent', () => {
  it('accepts a minimal event and defaults the timestamp to receive time', () => {
    const r = validateEvent({ eventType: 'page', eventName: 'view' }, ctx);
    assert.ok(r.ok);
    assert.equal(r.event.timestampMs, now);
    assert.equal(r.event.propertiesJson, '{}');
  });

  it('reads ISO 8601 with a zone and epoch milliseconds', () => {
    const iso = validateEvent({ eventType: 'a', eventName: 'b', timestamp: '2026-06-01T10:00:00.250+02:00' }, ctx);
    assert.ok(iso.ok);
    assert.equal(iso.event.timestampMs, Date.parse('2026-06-01T08:00:00.250Z'));
    const ms = validateEvent({ eventType: 'a', eventName: 'b', timestamp: now - 5 }, ctx);
    assert.ok(ms.ok);
    assert.equal(ms.event.timestampMs, now - 5);
  });

  it('refuses zone-less, future and pre-retention timestamps', () => {
    assert.deepEqual(fields({ eventType: 'a', eventName: 'b', timestamp: '2026-06-01T10:00:00' }), ['timestamp']);
    assert.deepEqual(fields({ eventType: 'a', eventName: 'b', timestamp: now + 25 * 3600_000 }), ['timestamp']);
    assert.deepEqual(fields({ eventType: 'a', eventName: 'b', timestamp: now + 23 * 3600_000 }), []);
    assert.deepEqual(fields({ eventType: 'a', eventName: 'b', timestamp: now - 91 * 86_400_000 }), ['timestamp']);
    assert.deepEqual(fields({ eventType: 'a', eventName: 'b', timestamp: 1.5 }), ['timestamp']);
  });

  it('collects property values for search, through nesting and arrays', () => {
    const r = validateEvent({ eventType: 'a', eventName: 'b', properties: { a: 'Hello', b: { c: [1, 'World'] }, d: true } }, ctx);
    assert.ok(r.ok);
    assert.deepEqual(r.event.searchValues, ['hello', '1', 'world', 'true']);
  });

  it('reports every problem of an event at once', () => {
    assert.deepEqual(fields({ eventType: '', eventName: ' ', sessionId: 3, extra: 1 }), ['extra', 'eventType', 'eventName', 'sessionId']);
  });

  it('bounds depth, key count and key length', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 6; i++) deep = { n: deep };
    assert.equal(fields({ eventType: 'a', eventName: 'b', properties: deep }).length, 1);
    const wide = Object.fromEntries(Array.from({ length: 301 }, (_, i) => [`k${i}`, i]));
    assert.deepEqual(fields({ eventType: 'a', eventName: 'b', properties: wide }), ['properties']);
    assert.deepEqual(fields({ eventType: 'a', eventName: 'b', properties: { ['k'.repeat(201)]: 1 } }), ['properties']);
  });
});
