import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toWireField, type WireFieldNames } from './wire-fields.js';

describe('wire field names', () => {
  const names: WireFieldNames = { eventName: 'payload.name', properties: 'payload.properties' };

  it('renames the canonical field and keeps the path below it', () => {
    assert.equal(toWireField('eventName', names), 'payload.name');
    assert.equal(toWireField('properties.a.b', names), 'payload.properties.a.b');
  });

  it('keeps fields the source does not map, and never reads inherited names', () => {
    assert.equal(toWireField('context.ip', names), 'context.ip');
    assert.equal(toWireField('body', names), 'body');
    assert.equal(toWireField('constructor', names), 'constructor');
    assert.equal(toWireField('__proto__.x', names), '__proto__.x');
  });
});
