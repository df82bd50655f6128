import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { WriterLock } from './writer-lock.port.js';

// Extend or release the lock only while it is still ours (the token), atomically.
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface RedisWriterLockOptions {
  /** How long a holder that stops renewing (it died) keeps the lock. */
  ttlMs?: number;
  /** How often a waiter tries again. */
  retryMs?: number;
  prefix?: string;
  onLost?: (name: string) => void;
}

/**
 * Across replicas on Redis: SET NX with a expiry, renewed at a third of it while the holder
 * works, released by token. A holder that dies frees the lock when the expiry passes.
 */
export class RedisWriterLock implements WriterLock {
  readonly kind = 'redis' as const;
  private readonly ttlMs: number;
  private readonly retryMs: number;
  private readonly prefix: string;

  private constructor(
    private readonly redis: Redis,
    private readonly options: RedisWriterLockOptions,
  ) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.retryMs = options.retryMs ?? 20;
    this.prefix = options.prefix ?? 'analytics:lock:';
  }

  static async connect(url: string, options: RedisWriterLockOptions = {}): Promise<RedisWriterLock> {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    await redis.connect();
    return new RedisWriterLock(redis, options);
  }

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const key = this.prefix + name;
    const token = randomUUID();
    while ((await this.redis.set(key, token, 'PX', this.ttlMs, 'NX')) !== 'OK') {
      await new Promise((r) => setTimeout(r, this.retryMs));
    }
    const renew = setInterval(() => {
      this.redis.eval(EXTEND, 1, key, token, this.ttlMs).then(
        (kept) => kept === 0 && this.options.onLost?.(name),
        () => undefined, // a failed renewal is tried again at the next tick
      );
    }, this.ttlMs / 3);
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      await this.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}
