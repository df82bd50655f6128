import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { InProcessFechatterSessions, RedisFechatterSessions, SESSION_GAP_MS, type SessionClaim } from '../src/sources/fechatter/fechatter-sessions.js';
import { needs, REDIS_URL } from './support/services.js';

const skip = await needs('redis');

describe('Fechatter sessions on Redis (every replica sees them)', { skip }, () => {
  it('gives two replicas the same session for one client, by the same rule as in process', async () => {
    const prefix = `test:fechatter:${randomUUID()}:`;
    const a = await RedisFechatterSessions.connect(REDIS_URL, prefix);
    const b = await RedisFechatterSessions.connect(REDIS_URL, prefix);
    const local = new InProcessFechatterSessions();
    try {
      const t = Date.now();
      const claims: SessionClaim[] = [0, 3, 9, 25, 26, -40, 30].map((m, i) => ({ accountId: 'acc', clientId: i === 6 ? 'other' : 'c', at: t + m * 60_000 }));
      const ids: string[] = [];
      for (const [i, claim] of claims.entries()) ids.push(...(await (i % 2 === 0 ? a : b).assign([claim])));
      const expected = await local.assign(claims);
      // The same partition into sessions (ids are random).
      const shape = (xs: string[]) => xs.map((x) => xs.indexOf(x));
      assert.deepEqual(shape(ids), shape(expected));
      assert.deepEqual(shape(ids), [0, 0, 0, 3, 3, 5, 6]);
      assert.ok(SESSION_GAP_MS === 600_000);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
