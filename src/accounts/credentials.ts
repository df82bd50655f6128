import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets are 256 random bits, so a fast SHA-256 is the right hash: there is nothing to
 * brute-force, and verifying stays cheap on the ingestion hot path (bcrypt would cost ~50 ms
 * per request). Only the hash is stored.
 */
export function newClientSecret(): string {
  return `sk_${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
