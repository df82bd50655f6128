import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AlertDocument, AlertStateDocument, NotificationKind, Observation } from './alert.types.js';
import { initialState, step } from './alert-state-machine.js';

type Settings = Pick<AlertDocument, 'for' | 'noData' | 'cooldown'>;
type Outcome = Observation['outcome'];

const MIN = 60_000;
const T0 = Date.parse('2026-05-12T10:00:00Z');

const obs = (outcome: Outcome, windowEnd: number, value: number | null = outcome === 'no_data' || outcome === 'error' ? null : 1): Observation => ({
  windowStart: windowEnd - MIN,
  windowEnd,
  outcome,
  value,
  explanation: `${outcome} at ${windowEnd}`,
});

interface Sent {
  i: number;
  at: number;
  kind: NotificationKind;
}

/** Runs one-minute windows (window i ends at T0 + (i + 1) min, judged then), collecting notifications and states. */
function run(outcomes: Outcome[], alert: Settings, start: AlertStateDocument = initialState('a1', 'acc', T0)) {
  let state = start;
  const sent: Sent[] = [];
  const states: AlertStateDocument[] = [];
  outcomes.forEach((o, i) => {
    const t = T0 + (i + 1) * MIN;
    const j = step(state, obs(o, t), alert, t);
    if (j.notify) sent.push({ i, at: t, kind: j.notify });
    state = j.next;
    states.push(state);
  });
  return { state, sent, states };
}

const B = 'breach' as const;
const C = 'clear' as const;

describe('alert state machine', () => {
  it('starts ok, with nothing notified', () => {
    assert.deepEqual(initialState('a1', 'acc', T0), { _id: 'a1', accountId: 'acc', state: 'ok', since: T0, breaches: 0, notified: 'ok', version: 0 });
  });

  it('goes ok → pending → firing after `for` consecutive breaches, notifying firing once on entering firing', () => {
    const alert: Settings = { for: 2, noData: 'ok', cooldown: 3600 };
    const s0 = initialState('a1', 'acc', T0);
    const t1 = T0 + MIN;
    const j1 = step(s0, obs(B, t1, 120), alert, t1);
    assert.equal(j1.next.state, 'pending');
    assert.equal(j1.changedFrom, 'ok');
    assert.equal(j1.next.breaches, 1);
    assert.equal(j1.next.since, t1);
    assert.equal(j1.notify, undefined);
    assert.equal(j1.next.notified, 'ok');
    assert.equal(j1.next.lastValue, 120);
    assert.equal(j1.next.lastWindowEnd, t1);
    assert.equal(j1.next.lastEvaluatedAt, t1);

    const t2 = T0 + 2 * MIN;
    const j2 = step(j1.next, obs(B, t2), alert, t2);
    assert.equal(j2.next.state, 'firing');
    assert.equal(j2.changedFrom, 'pending');
    assert.equal(j2.next.breaches, 2);
    assert.equal(j2.notify, 'firing');
    assert.equal(j2.next.notified, 'firing');
    assert.equal(j2.next.lastNotifiedAt, t2);
    assert.equal(j2.next.since, t2);

    const t3 = T0 + 3 * MIN;
    const j3 = step(j2.next, obs(B, t3), alert, t3);
    assert.equal(j3.next.state, 'firing');
    assert.equal(j3.changedFrom, undefined);
    assert.equal(j3.notify, undefined);
    assert.equal(j3.next.breaches, 3);
    assert.equal(j3.next.since, t2, 'since stays when the state does not change');

    // Over a long run only the first firing window notifies (cooldown of an hour).
    const { sent } = run([B, B, B, B, B, B, B, B, B, B], alert);
    assert.deepEqual(sent.map((s) => [s.i, s.kind]), [[1, 'firing']]);
  });

  it('a clear window before `for` is reached starts the count again', () => {
    const alert: Settings = { for: 2, noData: 'ok', cooldown: 0 };
    const { states, sent } = run([B, C, B, C, B, B], alert);
    assert.deepEqual(states.map((s) => s.state), ['pending', 'ok', 'pending', 'ok', 'pending', 'firing']);
    assert.deepEqual(states.map((s) => s.breaches), [1, 0, 1, 0, 1, 2]);
    assert.deepEqual(sent.map((s) => [s.i, s.kind]), [[5, 'firing']]);
    // for = 1 fires on the first breach.
    assert.equal(run([B], { ...alert, for: 1 }).state.state, 'firing');
    // for = 3 is still pending after two.
    assert.equal(run([B, B], { ...alert, for: 3 }).state.state, 'pending');
  });

  it("repeats only once a cooldown has passed since the last notification", () => {
    // Cooldown 5 minutes: fired at window 1 (T0+2 min), repeats at T0+7 and T0+12 min.
    const alert: Settings = { for: 2, noData: 'ok', cooldown: 300 };
    const { sent } = run(Array<Outcome>(14).fill(B), alert);
    assert.deepEqual(
      sent.map((s) => [s.i, s.kind]),
      [
        [1, 'firing'],
        [6, 'repeat'],
        [11, 'repeat'],
      ],
    );
    for (let k = 1; k < sent.length; k++) assert.equal(sent[k]!.at - sent[k - 1]!.at, 300_000);
    // One millisecond short of the cooldown is not enough.
    const firing: AlertStateDocument = { ...initialState('a1', 'acc', T0), state: 'firing', breaches: 5, notified: 'firing', lastNotifiedAt: T0 };
    assert.equal(step(firing, obs(B, T0 + 300_000 - 1), alert, T0 + 300_000 - 1).notify, undefined);
    const j = step(firing, obs(B, T0 + 300_000), alert, T0 + 300_000);
    assert.equal(j.notify, 'repeat');
    assert.equal(j.next.notified, 'firing');
    assert.equal(j.next.lastNotifiedAt, T0 + 300_000);
  });

  it('announces a recovery at once when the cooldown has passed', () => {
    const alert: Settings = { for: 2, noData: 'ok', cooldown: 300 };
    const firing: AlertStateDocument = { ...initialState('a1', 'acc', T0), state: 'firing', since: T0, breaches: 4, notified: 'firing', lastNotifiedAt: T0 };
    const t = T0 + 10 * MIN;
    const j = step(firing, obs(C, t), alert, t);
    assert.equal(j.next.state, 'ok');
    assert.equal(j.changedFrom, 'firing');
    assert.equal(j.notify, 'resolved');
    assert.equal(j.next.notified, 'ok');
    assert.equal(j.next.lastNotifiedAt, t);
    assert.equal(j.next.breaches, 0);
    // Announced once: the next clear window says nothing.
    assert.equal(step(j.next, obs(C, t + MIN), alert, t + MIN).notify, undefined);
  });

  it('defers a recovery within the cooldown to the first evaluation after it', () => {
    // Cooldown 5 min; fires at window 1 (T0+2 min), clears at window 3 (T0+4 min).
    const alert: Settings = { for: 2, noData: 'ok', cooldown: 300 };
    const { sent, states } = run([B, B, C, C, C, C, C, C, C], alert);
    assert.equal(states[2]!.state, 'ok');
    assert.equal(states[2]!.notified, 'firing', 'the recovery is not announced yet');
    // T0+7 min is the first evaluation at least 5 min after T0+2 min: window 6.
    assert.deepEqual(
      sent.map((s) => [s.i, s.kind]),
      [
        [1, 'firing'],
        [6, 'resolved'],
      ],
    );
    assert.equal(states.at(-1)!.notified, 'ok');
    // The deferred announcement is not a state change.
    const before = states[5]!;
    const j = step(before, obs(C, T0 + 7 * MIN), alert, T0 + 7 * MIN);
    assert.equal(j.changedFrom, undefined);
    assert.equal(j.notify, 'resolved');
  });

  it('says nothing when it recovers and fires again within the cooldown', () => {
    // Fires at T0+2 min, clears at T0+3, fires again at T0+5 (cooldown 10 min): the first message still holds.
    const alert: Settings = { for: 1, noData: 'ok', cooldown: 600 };
    const { sent } = run([C, B, C, C, B, B, B, B, B, B, B, B, B], alert);
    assert.deepEqual(
      sent.map((s) => [s.i, s.kind]),
      [
        [1, 'firing'],
        [11, 'repeat'],
      ],
    );
  });

  it('a firing state entered within the cooldown after a recovery is announced once the cooldown passes', () => {
    // Fires at window 0 (T0+1), recovery announced at window 5 (T0+6, cooldown 5 min), fires again at window 6.
    const alert: Settings = { for: 1, noData: 'ok', cooldown: 300 };
    const { sent, states } = run([B, C, C, C, C, C, B, B, B, B, B, B, B], alert);
    assert.deepEqual(
      sent.map((s) => [s.i, s.kind]),
      [
        [0, 'firing'],
        [5, 'resolved'],
        [10, 'firing'],
      ],
    );
    assert.equal(states[6]!.state, 'firing');
    assert.equal(states[6]!.notified, 'ok');
  });

  describe('flapping', () => {
    it('breach and clear alternating every window send at most one notification per cooldown (3 windows)', () => {
      const alert: Settings = { for: 1, noData: 'ok', cooldown: 180 };
      const flap: Outcome[] = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? B : C));
      const { sent, states } = run(flap, alert);
      assert.ok(sent.length >= 2, 'it does notify while flapping');
      assert.ok(sent.length <= Math.ceil((60 * MIN) / 180_000) + 1, `${sent.length} notifications in 60 windows`);
      for (let k = 1; k < sent.length; k++) assert.ok(sent[k]!.at - sent[k - 1]!.at >= 180_000, `notifications ${k - 1} and ${k} too close`);
      // Messages alternate: never two firings or two recoveries in a row.
      for (let k = 1; k < sent.length; k++) assert.notEqual(sent[k]!.kind, sent[k - 1]!.kind);
      assert.equal(sent[0]!.kind, 'firing');
      // Every state's notified field matches the last message sent up to then.
      let last: NotificationKind | undefined;
      states.forEach((s, i) => {
        const m = sent.find((x) => x.i === i);
        if (m) last = m.kind;
        assert.equal(s.notified, last === undefined || last === 'resolved' ? 'ok' : 'firing');
      });
    });

    for (const settle of [B, C] as const) {
      for (const flapLength of [7, 8, 9, 10, 11, 12]) {
        it(`the last message ends up matching the state (${flapLength} flapping windows, then ${settle === B ? 'breaching' : 'clear'})`, () => {
          const alert: Settings = { for: 1, noData: 'ok', cooldown: 180 };
          const flap: Outcome[] = Array.from({ length: flapLength }, (_, i) => (i % 2 === 0 ? B : C));
          const { sent, state } = run([...flap, ...Array<Outcome>(4).fill(settle)], alert);
          for (let k = 1; k < sent.length; k++) assert.ok(sent[k]!.at - sent[k - 1]!.at >= 180_000);
          assert.equal(state.state, settle === B ? 'firing' : 'ok');
          const lastKind = sent.at(-1)!.kind;
          assert.equal(settle === B ? lastKind !== 'resolved' : lastKind === 'resolved', true, `last message ${lastKind}`);
          assert.equal(state.notified, settle === B ? 'firing' : 'ok');
        });
      }
    }

    it('on a random series, notifications keep the cooldown and the last one matches the settled state', () => {
      let seed = 12345;
      const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
      for (let trial = 0; trial < 200; trial++) {
        const alert: Settings = { for: 1 + (trial % 3), noData: trial % 2 ? 'alert' : 'ok', cooldown: 60 * (1 + (trial % 5)) };
        const pick: Outcome[] = ['breach', 'clear', 'no_data', 'error', 'learning'];
        const series = Array.from({ length: 80 }, () => pick[Math.floor(rand() * (rand() < 0.7 ? 2 : 5))]!);
        const settle = rand() < 0.5 ? B : C;
        const { sent, state } = run([...series, ...Array<Outcome>(alert.for + alert.cooldown / 60 + 1).fill(settle)], alert);
        for (let k = 1; k < sent.length; k++) assert.ok(sent[k]!.at - sent[k - 1]!.at >= alert.cooldown * 1000, `trial ${trial}: ${k}`);
        // A recovery follows a firing message, a firing message follows a recovery (or nothing).
        for (let k = 0; k < sent.length; k++) {
          const before = sent.slice(0, k).filter((s) => s.kind !== 'repeat').at(-1)?.kind;
          if (sent[k]!.kind === 'resolved') assert.equal(before, 'firing', `trial ${trial}`);
          if (sent[k]!.kind === 'firing') assert.notEqual(before, 'firing', `trial ${trial}`);
          if (sent[k]!.kind === 'repeat') assert.equal(before, 'firing', `trial ${trial}`);
        }
        assert.equal(state.state, settle === B ? 'firing' : 'ok', `trial ${trial}`);
        assert.equal(state.notified, settle === B ? 'firing' : 'ok', `trial ${trial}`);
        if (settle === B) assert.notEqual(sent.at(-1)?.kind, 'resolved', `trial ${trial}`);
        else if (sent.length > 0) assert.equal(sent.at(-1)!.kind, 'resolved', `trial ${trial}`);
      }
    });
  });

  describe('errors and missing data', () => {
    it('an error is its own state: breaches reset, no notification, what was notified kept', () => {
      const alert: Settings = { for: 2, noData: 'ok', cooldown: 300 };
      const firing: AlertStateDocument = { ...initialState('a1', 'acc', T0), state: 'firing', breaches: 3, notified: 'firing', lastNotifiedAt: T0 };
      const t1 = T0 + 10 * MIN; // well after the cooldown
      const e = step(firing, { ...obs('error', t1), explanation: 'ClickHouse timed out' }, alert, t1);
      assert.equal(e.next.state, 'error');
      assert.equal(e.changedFrom, 'firing');
      assert.equal(e.next.breaches, 0);
      assert.equal(e.notify, undefined);
      assert.equal(e.next.notified, 'firing');
      assert.equal(e.next.lastNotifiedAt, T0);
      assert.equal(e.next.lastError, 'ClickHouse timed out');
      // A later recovery still announces 'resolved', and forgets the error.
      const t2 = t1 + MIN;
      const r = step(e.next, obs(C, t2), alert, t2);
      assert.equal(r.next.state, 'ok');
      assert.equal(r.changedFrom, 'error');
      assert.equal(r.notify, 'resolved');
      assert.equal(r.next.lastError, undefined);
      assert.ok(!('lastError' in r.next));
      // After an error the count starts again: one breach is pending, not firing.
      const b = step(e.next, obs(B, t2), alert, t2);
      assert.equal(b.next.state, 'pending');
      assert.equal(b.next.breaches, 1);
      assert.equal(b.notify, undefined);
    });

    it('repeated errors from ok never notify', () => {
      const { sent, state } = run(Array<Outcome>(10).fill('error'), { for: 1, noData: 'alert', cooldown: 0 });
      assert.deepEqual(sent, []);
      assert.equal(state.state, 'error');
      assert.equal(state.notified, 'ok');
    });

    it("no data with noData 'ok' is the no_data state, and announces a recovery", () => {
      const alert: Settings = { for: 1, noData: 'ok', cooldown: 0 };
      const { states, sent } = run([B, 'no_data', 'no_data', B], alert);
      assert.deepEqual(states.map((s) => s.state), ['firing', 'no_data', 'no_data', 'firing']);
      assert.deepEqual(states.map((s) => s.breaches), [1, 0, 0, 1]);
      assert.deepEqual(sent.map((s) => [s.i, s.kind]), [
        [0, 'firing'],
        [1, 'resolved'],
        [3, 'firing'],
      ]);
      assert.equal(states[1]!.lastValue, null);
    });

    it("no data with noData 'alert' counts as a breach", () => {
      const alert: Settings = { for: 2, noData: 'alert', cooldown: 0 };
      const { states, sent } = run(['no_data', 'no_data', B, C], alert);
      assert.deepEqual(states.map((s) => s.state), ['pending', 'firing', 'firing', 'ok']);
      assert.deepEqual(states.map((s) => s.breaches), [1, 2, 3, 0]);
      assert.deepEqual(sent.map((s) => [s.i, s.kind]), [
        [1, 'firing'],
        [2, 'repeat'],
        [3, 'resolved'],
      ]);
    });

    it('learning is neither a breach nor no data', () => {
      const { states } = run([B, 'learning'], { for: 2, noData: 'alert', cooldown: 0 });
      assert.deepEqual(states.map((s) => [s.state, s.breaches]), [
        ['pending', 1],
        ['ok', 0],
      ]);
    });
  });

  it('does not change the state object it is given', () => {
    const alert: Settings = { for: 1, noData: 'ok', cooldown: 0 };
    const prev: AlertStateDocument = {
      ...initialState('a1', 'acc', T0),
      state: 'firing',
      breaches: 2,
      notified: 'firing',
      lastNotifiedAt: T0,
      lastError: 'old',
      lastValue: 5,
      lastWindowEnd: T0,
      nextDueAt: T0 + MIN,
    };
    const copy = structuredClone(prev);
    for (const o of ['breach', 'clear', 'error', 'no_data', 'learning'] as const) {
      const j = step(prev, obs(o, T0 + MIN), alert, T0 + MIN);
      assert.notEqual(j.next, prev);
      assert.deepEqual(prev, copy, o);
    }
    // Fields it does not own are carried over.
    const j = step(prev, obs(C, T0 + MIN), alert, T0 + MIN);
    assert.equal(j.next.nextDueAt, T0 + MIN);
    assert.equal(j.next.version, prev.version);
    assert.equal(j.next._id, 'a1');
  });
});
