import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-alert-signature';
export const TIMESTAMP_HEADER = 'x-alert-timestamp';

/**
 * The signature of a webhook body: `sha256=` and the hex HMAC-SHA256, keyed by the alert's
 * secret, of `<timestamp>.<body>` (the timestamp header's value, a dot, the raw body). Signing
 * the timestamp too lets a receiver refuse old replays.
 */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does (and the tests do): recompute and compare in constant time. */
export function verifyWebhook(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
