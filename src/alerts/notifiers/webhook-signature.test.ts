import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER, verifyWebhook } from './webhook-signature.js';

const secret = 'whsec_4f1c0b7e2d';
const timestamp = '1778580000';
const body = JSON.stringify({ alert: { id: 'a1', name: 'Signups dropped' }, state: 'firing', value: 700, text: 'ünïcödé ✓' });

describe('webhook signatures', () => {
  it('names its headers', () => {
    assert.equal(SIGNATURE_HEADER, 'x-alert-signature');
    assert.equal(TIMESTAMP_HEADER, 'x-alert-timestamp');
  });

  it('is sha256= and 64 lower-case hex digits', () => {
    assert.match(signWebhook(secret, timestamp, body), /^sha256=[0-9a-f]{64}$/);
    assert.match(signWebhook('', '', ''), /^sha256=[0-9a-f]{64}$/);
  });

  it('is the HMAC-SHA256 of `<timestamp>.<body>` keyed by the secret', () => {
    const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
    assert.equal(signWebhook(secret, timestamp, body), expected);
    // Not the body alone, nor without the dot.
    assert.notEqual(signWebhook(secret, timestamp, body), `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
    assert.notEqual(signWebhook(secret, timestamp, body), `sha256=${createHmac('sha256', secret).update(`${timestamp}${body}`).digest('hex')}`);
  });

  it('is deterministic', () => {
    assert.equal(signWebhook(secret, timestamp, body), signWebhook(secret, timestamp, body));
  });

  it('verifies a correct signature', () => {
    assert.equal(verifyWebhook(secret, timestamp, body, signWebhook(secret, timestamp, body)), true);
  });

  it('rejects a tampered body, timestamp or secret, and malformed signatures', () => {
    const sig = signWebhook(secret, timestamp, body);
    assert.equal(verifyWebhook(secret, timestamp, body.replace('700', '701'), sig), false);
    assert.equal(verifyWebhook(secret, timestamp, `${body} `, sig), false);
    assert.equal(verifyWebhook(secret, '1778580001', body, sig), false);
    assert.equal(verifyWebhook(`${secret}x`, timestamp, body, sig), false);
    assert.equal(verifyWebhook('', timestamp, body, sig), false);
    assert.equal(verifyWebhook(secret, timestamp, body, sig.toUpperCase()), false);
    assert.equal(verifyWebhook(secret, timestamp, body, sig.slice('sha256='.length)), false);
    assert.equal(verifyWebhook(secret, timestamp, body, `${sig}0`), false);
    assert.equal(verifyWebhook(secret, timestamp, body, ''), false);
    const flipped = sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');
    assert.equal(verifyWebhook(secret, timestamp, body, flipped), false);
  });
});
