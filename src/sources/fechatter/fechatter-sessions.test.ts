import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InProcessFechatterSessions, SESSION_GAP_MS, uuidV7 } from './fechatter-sessions.js';

describe('Fechatter sessions (in process)', () => {
  it('continues a session under 10 minutes, starts one after, per account and client', async () => {
    const s = new InProcessFechatterSessions();
    const t = 1_700_000_000_000;
    const [a1, a2, b1, other] = await s.assign([
      { accountId: 'acc', clientId: 'a', at: t },
      { accountId: 'acc', clientId: 'a', at: t + SESSION_GAP_MS - 1 },
      { accountId: 'acc', clientId: 'b', at: t },
      { accountId: 'acc2', clientId: 'a', at: t },
    ]);
    assert.equal(a1, a2);
    assert.notEqual(a1, b1);
    assert.notEqual(a1, other);
    const [a3] = await s.assign([{ accountId: 'acc', clientId: 'a', at: t + 2 * SESSION_GAP_MS - 1 }]);
    assert.notEqual(a3, a1, 'exactly 10 minutes after the last event: a new session');
    // A late event from long before: a session of its own; the current one goes on.
    const [late, a4] = await s.assign([
      { accountId: 'acc', clientId: 'a', at: t - 5 * SESSION_GAP_MS },
      { accountId: 'acc', clientId: 'a', at: t + 2 * SESSION_GAP_MS },
    ]);
    assert.notEqual(late, a3);
    assert.equal(a4, a3);
  });

  it('makes UUIDv7 ids that carry their time', () => {
    const id = uuidV7(0x0123456789ab);
    assert.match(id, /^01234567-89ab-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
