import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignSessions, type SessionState, sessionId } from './session-assigner.js';

const MIN = 60_000;

describe('session assignment', () => {
  it('keeps a device in one session until a gap longer than the timeout, in event-time order', () => {
    const state = new Map<string, SessionState[]>();
    const at = [0, 10, 39, 45, 80, 81].map((m) => m * MIN);
    // Given out of order: assignment follows event time, not arrival.
    const order = [3, 0, 5, 1, 4, 2];
    const ids = assignSessions(order.map((i) => ({ account: 'a', device: 'd', at: at[i]! })), state, 30 * MIN);
    const byTime = new Map(order.map((i, k) => [i, ids[k]]));
    // 0,10,39 (gaps 10, 29) | 45?  39→45 is 6 min: same session; 45→80 is 35: new; 80→81 same.
    assert.equal(byTime.get(0), sessionId('a', 'd', 0));
    assert.deepEqual([1, 2, 3].map((i) => byTime.get(i)), [byTime.get(0), byTime.get(0), byTime.get(0)]);
    assert.equal(byTime.get(4), sessionId('a', 'd', 80 * MIN));
    assert.equal(byTime.get(5), byTime.get(4));
  });

  it('continues a session from stored state, and keeps devices and accounts apart', () => {
    const state = new Map<string, SessionState[]>([['a\u0000d', [{ id: 'ses_old', start: 0, last: 20 * MIN }]]]);
    const ids = assignSessions(
      [
        { account: 'a', device: 'd', at: 49 * MIN },
        { account: 'a', device: 'other', at: 49 * MIN },
        { account: 'b', device: 'd', at: 49 * MIN },
      ],
      state,
      30 * MIN,
    );
    assert.equal(ids[0], 'ses_old');
    assert.notEqual(ids[1], ids[2]);
    assert.equal(state.get('a\u0000d')![0]!.last, 49 * MIN);
  });

  it('puts an event that arrives late, in a later batch, into the session it belongs to', () => {
    const state = new Map<string, SessionState[]>();
    // The first batch brings 10:06 and 11:00 (two sessions); the next one the earlier 10:00 and 10:05.
    const [s1006, s1100] = assignSessions(
      [
        { account: 'a', device: 'd', at: 606 * MIN },
        { account: 'a', device: 'd', at: 660 * MIN },
      ],
      state,
      30 * MIN,
    );
    assert.notEqual(s1006, s1100);
    const late = assignSessions(
      [
        { account: 'a', device: 'd', at: 600 * MIN },
        { account: 'a', device: 'd', at: 605 * MIN },
      ],
      state,
      30 * MIN,
    );
    assert.deepEqual(late, [s1006, s1006]);
    assert.equal(state.get('a\u0000d')!.find((s) => s.id === s1006)!.start, 600 * MIN);
  });

  it('gives the same events the same ids on a retry', () => {
    const events = [
      { account: 'a', device: 'd', at: 5 },
      { account: 'a', device: 'd', at: 3 * 60 * MIN },
    ];
    assert.deepEqual(assignSessions(events, new Map(), 30 * MIN), assignSessions(events, new Map(), 30 * MIN));
  });
});
