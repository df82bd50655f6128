import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnModuleInit, Optional } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';

/** Milliseconds since the epoch; injected as SIGNING_CLOCK in tests that move time. */
export type Clock = () => number;
export const SIGNING_CLOCK = Symbol('SIGNING_CLOCK');

/** What `verify` gives back: the signed payload and its expiry (epoch seconds). */
export type Signed<T extends object> = T & { exp: number };

const MIN_KEY_LENGTH = 16;
const TOKEN = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/;

/**
 * Signs small payloads into compact, expiring, URL-safe tokens, for links in emails (report
 * downloads) and live WebSocket tokens: `base64url(JSON payload + exp).base64url(HMAC-SHA256)`.
 * The payload is readable by whoever holds the token, not secret; it cannot be changed or
 * extended without the key.
 *
 * The key is SIGNING_SECRET; without it, one is generated on first start into
 * DATA_DIR/signing-key (mode 0600), like the root key. Replicas that do not share DATA_DIR must
 * share SIGNING_SECRET, or a token signed by one is refused by another.
 *
 * Every token of every purpose is signed with the same key, so a payload should name its
 * purpose (`{ purpose: 'report-download', … }`) and the verifier check it: otherwise a token
 * made for one use is accepted for another.
 */
@Injectable()
export class SigningService implements OnModuleInit {
  private readonly logger = new Logger('signing');
  private key?: Buffer;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(SIGNING_CLOCK) private readonly clock: Clock = Date.now,
  ) {}

  /** Loads (or generates) the key at boot, so its file and log line come at first start. */
  onModuleInit(): void {
    this.secret();
  }

  /**
   * A token for `payload`, valid for at least `ttlSeconds` (expiry rounded up to the second).
   * The payload must be a JSON object without its own `exp`.
   */
  sign<T extends object>(payload: T, ttlSeconds: number): string {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new RangeError(`ttlSeconds must be a positive whole number, got ${ttlSeconds}`);
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new TypeError('the payload must be an object');
    if (Object.hasOwn(payload, 'exp')) throw new TypeError('the payload cannot carry its own exp: sign() sets it');
    const exp = Math.ceil((this.clock() + ttlSeconds * 1000) / 1000);
    const body = Buffer.from(JSON.stringify({ ...payload, exp })).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /**
   * The payload of a token this service signed and that has not expired, else null (malformed,
   * changed, signed with another key, or expired). The shape of the payload is the caller's to
   * check: the MAC proves who made it, not what it holds.
   */
  verify<T extends object = Record<string, unknown>>(token: string): Signed<T> | null {
    const m = typeof token === 'string' ? TOKEN.exec(token) : null;
    if (!m) return null;
    const [, body, mac] = m as unknown as [string, string, string];
    if (!timingSafeEqual(Buffer.from(mac), Buffer.from(this.mac(body)))) return null;
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
    const exp = (payload as { exp?: unknown }).exp;
    if (typeof exp !== 'number' || !Number.isFinite(exp)) return null;
    if (this.clock() >= exp * 1000) return null;
    return payload as Signed<T>;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.secret()).update(body).digest('base64url');
  }

  private secret(): Buffer {
    this.key ??= this.loadKey();
    return this.key;
  }

  private loadKey(): Buffer {
    if (this.config.signingSecret) return Buffer.from(this.config.signingSecret, 'utf8');
    const file = join(this.config.dataDir, 'signing-key');
    const generated = randomBytes(32).toString('base64url');
    try {
      writeFileSync(file, `${generated}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const kept = readFileSync(file, 'utf8').trim();
      if (kept.length < MIN_KEY_LENGTH) {
        throw new Error(`${file} holds no usable signing key (fewer than ${MIN_KEY_LENGTH} characters): delete it to generate a new one, or set SIGNING_SECRET`);
      }
      return Buffer.from(kept, 'utf8');
    }
    this.logger.warn(
      { file },
      'generated a signing key for expiring links and live tokens; processes that do not share DATA_DIR (ROLE=api / worker replicas) must all set the same SIGNING_SECRET (the content of this file will do)',
    );
    return Buffer.from(generated, 'utf8');
  }
}
