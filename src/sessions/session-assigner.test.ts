import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignSessions, type SessionCandidate, type SessionState, sessionId } from './session-assigner.js';

const MIN = 60_000;

describe('session assignment', () => {
  it('keeps a device in one session until a gap longer than the timeout, in event-time order', () => {
    const state = new Map<string, SessionState[]>();
    const at = [0, 10, 39, 45, 80, 81].map((m) => m * MIN);
    // Given out of order: assignment follows event time, not arrival.
    const order = [3, 0, 5, 1, 4, 2];
    const { ids } = assignSessions(order.map((i) => ({ account: 'a', device: 'd', at: at[i]! })), state, 30 * MIN);
    const byTime = new Map(order.map((i, k) => [i, ids[k]]));
    // 0,10,39 (gaps 10, 29) | 45?  39→45 is 6 min: same session; 45→80 is 35: new; 80→81 same.
    assert.equal(byTime.get(0), sessionId('a', 'd', 0));
    assert.deepEqual([1, 2, 3].map((i) => byTime.get(i)), [byTime.get(0), byTime.get(0), byTime.get(0)]);
    assert.equal(byTime.get(4), sessionId('a', 'd', 80 * MIN));
    assert.equal(byTime.get(5), byTime.get(4));
  });

  it('continues a session from stored state, and keeps devices and accounts apart', () => {
    const state = new Map<string, SessionState[]>([['a\u0000d', [{ id: 'ses_old', start: 0, last: 20 * MIN }]]]);
    const { ids } = assignSessions(
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
    ).ids;
    assert.notEqual(s1006, s1100);
    const late = assignSessions(
      [
        { account: 'a', device: 'd', at: 600 * MIN },
        { account: 'a', device: 'd', at: 605 * MIN },
      ],
      state,
      30 * MIN,
    ).ids;
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

  it('joins a stored session through a chain of the batch\'s own events', () => {
    // Stored: 0:50–0:55. The batch brings 0:00 and 0:22: 0:22 is nearer 0:00 than 0:50, but in
    // event-time order 0:00, 0:22, 0:50 and 0:55 are one session (gaps 22, 28, 5 minutes).
    const state = new Map<string, SessionState[]>([['a\u0000d', [{ id: 'ses_stored', start: 50 * MIN, last: 55 * MIN }]]]);
    const { ids, bridged } = assignSessions(
      [
        { account: 'a', device: 'd', at: 0 },
        { account: 'a', device: 'd', at: 22 * MIN },
      ],
      state,
      30 * MIN,
    );
    assert.deepEqual(ids, ['ses_stored', 'ses_stored']);
    assert.equal(bridged, 0);
    assert.deepEqual(state.get('a\u0000d'), [{ id: 'ses_stored', start: 0, last: 55 * MIN }]);
  });

  it('counts the stored sessions a late event bridges, and puts it in the nearer one', () => {
    const state = new Map<string, SessionState[]>([
      ['a\u0000d', [{ id: 'early', start: 0, last: 10 * MIN }, { id: 'late', start: 50 * MIN, last: 60 * MIN }]],
    ]);
    const { ids, bridged } = assignSessions([{ account: 'a', device: 'd', at: 35 * MIN }], state, 30 * MIN);
    assert.deepEqual(ids, ['late']);
    assert.equal(bridged, 1);
  });

  it('gives history sent newest first, in batches of any size, the sessions it would have had live', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = lcg(seed);
      const events = history(random);
      const live = sessionsOf(events, [events.map((_, i) => i).sort((a, b) => events[a]!.at - events[b]!.at)]);
      const newestFirst = events.map((_, i) => i).sort((a, b) => events[b]!.at - events[a]!.at);
      assert.deepEqual(sessionsOf(events, inBatches(newestFirst, random)).partition, live.partition, `seed ${seed}`);
    }
  });

  it('gives events sent in any order the live sessions unless it reports a bridge', () => {
    let bridgedRuns = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const random = lcg(seed);
      const events = history(random);
      const live = sessionsOf(events, [events.map((_, i) => i).sort((a, b) => events[a]!.at - events[b]!.at)]);
      const shuffled = events.map((_, i) => i).sort(() => random() - 0.5);
      const any = sessionsOf(events, inBatches(shuffled, random));
      if (any.bridged === 0) assert.deepEqual(any.partition, live.partition, `seed ${seed}`);
      else bridgedRuns++;
      assert.equal(any.bridged === 0, JSON.stringify(any.partition) === JSON.stringify(live.partition), `seed ${seed}: a difference is reported`);
    }
    assert.ok(bridgedRuns > 0 && bridgedRuns < 300, `random orders bridge sometimes (${bridgedRuns} of 300)`);
  });
});

/** A small deterministic random source (numbers in [0, 1)). */
function lcg(seed: number): () => number {
  // mulberry32
  let x = seed >>> 0;
  return () => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = Math.imul(x ^ (x >>> 15), 1 | x);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A few devices' events over 60 days: bursts of events minutes apart, bursts hours to days apart. */
function history(random: () => number): SessionCandidate[] {
  const events: SessionCandidate[] = [];
  for (const device of ['d1', 'd2', 'd3']) {
    let at = Math.floor(random() * 86_400_000);
    for (let burst = 0; burst < 6; burst++) {
      for (let k = 0; k < 1 + Math.floor(random() * 5); k++) {
        events.push({ account: 'a', device, at });
        at += Math.floor(random() * 40 * MIN);
      }
      at += Math.floor(random() * 10 * 86_400_000);
    }
  }
  return events;
}

/** The indexes in batches of 1 to 7. */
function inBatches(indexes: number[], random: () => number): number[][] {
  const batches: number[][] = [];
  for (let i = 0; i < indexes.length; ) {
    const size = 1 + Math.floor(random() * 7);
    batches.push(indexes.slice(i, i + size));
    i += size;
  }
  return batches;
}

/**
 * Sends the batches in order through one state; answers which events share a session (each
 * event's first fellow in input order) and how many bridges were reported.
 */
function sessionsOf(events: SessionCandidate[], batches: number[][]): { partition: number[]; bridged: number } {
  const state = new Map<string, SessionState[]>();
  const ids: string[] = new Array(events.length);
  let bridged = 0;
  for (const batch of batches) {
    const result = assignSessions(batch.map((i) => events[i]!), state, 30 * MIN);
    batch.forEach((i, k) => (ids[i] = result.ids[k]!));
    bridged += result.bridged;
  }
  return { partition: ids.map((id) => ids.indexOf(id)), bridged };
}
