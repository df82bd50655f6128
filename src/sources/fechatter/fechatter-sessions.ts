import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

/** Fechatter's rule: a gap under 10 minutes continues a client's session. */
export const SESSION_GAP_MS = 10 * 60 * 1000;

/** One event asking for its session: the client it came from and when it happened. */
export interface SessionClaim {
  accountId: string;
  clientId: string;
  at: number;
}

/**
 * Sessions of Fechatter clients, as its analytics server kept them: per client id, an event
 * less than SESSION_GAP_MS after the client's last one continues its session, otherwise a new
 * session (a UUIDv7) starts. An event older than the session's start by more than the gap (a
 * late one from an offline queue) gets a session of its own and leaves the current one as it is.
 */
export interface FechatterSessions {
  /** The session of each claim, in order (claims of one client are applied in order). */
  assign(claims: SessionClaim[]): Promise<string[]>;
  close(): Promise<void>;
}

interface SessionState {
  id: string;
  /** the newest event time seen in the session */
  last: number;
}

/** One process (embedded mode): a bounded map, idle clients forgotten after an hour. */
export class InProcessFechatterSessions implements FechatterSessions {
  private readonly sessions = new LRUCache<string, SessionState>({ max: 500_000, ttl: 60 * 60 * 1000 });

  async assign(claims: SessionClaim[]): Promise<string[]> {
    return claims.map(({ accountId, clientId, at }) => {
      const key = `${accountId}\0${clientId}`;
      const state = this.sessions.get(key);
      if (state && at - state.last < SESSION_GAP_MS && at > state.last - SESSION_GAP_MS) {
        if (at > state.last) state.last = at;
        this.sessions.set(key, state);
        return state.id;
      }
      const id = uuidV7(at);
      if (!state || at >= state.last) this.sessions.set(key, { id, last: at });
      return id;
    });
  }

  async close(): Promise<void> {
    this.sessions.clear();
  }
}

/**
 * The same rule on Redis, so every replica (and the NATS consumer on a worker) continues the same
 * session: one atomic script per claim, pipelined. The key lives an hour past the client's last
 * event.
 */
const ASSIGN = `
local v = redis.call('get', KEYS[1])
local at = tonumber(ARGV[1])
local gap = tonumber(ARGV[2])
if v then
  local sep = string.find(v, '|', 1, true)
  local id = string.sub(v, 1, sep - 1)
  local last = tonumber(string.sub(v, sep + 1))
  if at - last < gap and at > last - gap then
    if at > last then last = at end
    redis.call('set', KEYS[1], id .. '|' .. last, 'PX', ARGV[4])
    return id
  end
  if at < last then return ARGV[3] end
end
redis.call('set', KEYS[1], ARGV[3] .. '|' .. at, 'PX', ARGV[4])
return ARGV[3]`;

const KEY_TTL_MS = 60 * 60 * 1000;

export class RedisFechatterSessions implements FechatterSessions {
  private constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  static async connect(url: string, prefix = 'analytics:fechatter:session:'): Promise<RedisFechatterSessions> {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    await redis.connect();
    return new RedisFechatterSessions(redis, prefix);
  }

  async assign(claims: SessionClaim[]): Promise<string[]> {
    if (claims.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const { accountId, clientId, at } of claims) {
      pipeline.eval(ASSIGN, 1, `${this.prefix}${accountId}:${clientId}`, at, SESSION_GAP_MS, uuidV7(at), KEY_TTL_MS);
    }
    const results = (await pipeline.exec()) ?? [];
    return results.map(([err, id]) => {
      if (err) throw err;
      return String(id);
    });
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}

/** A UUIDv7 (RFC 9562): 48 bits of milliseconds, then random bits, as Fechatter's session ids. */
export function uuidV7(ms: number): string {
  const bytes = randomBytes(16);
  const t = BigInt(Math.max(0, Math.trunc(ms)));
  for (let i = 0; i < 6; i++) bytes[i] = Number((t >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
