import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  hourOfWeekLabel,
  lastCompleteWindow,
  nextWindow,
  previousWindow,
  shiftDays,
  timeOfDayLabel,
  type Window,
  WINDOWS,
  windowStart,
} from './alert-window.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const span = (w: Window) => [iso(w.from), iso(w.to)];
const BERLIN = 'Europe/Berlin';

/** The windows from the one holding `from` onwards, chained with nextWindow, while they start before `until`. */
function chain(from: number, until: number, length: number, tz: string): Window[] {
  const out: Window[] = [];
  let w = nextWindow({ from: 0, to: windowStart(from, length, tz) }, length, tz);
  // Bounded, so a chain that stops advancing fails the test instead of hanging it.
  for (; w.from < until && out.length <= 2 * ((until - from) / length + 2); w = nextWindow(w, length, tz)) out.push(w);
  return out;
}

describe('alert windows', () => {
  it('offers lengths that divide a day', () => {
    assert.equal(WINDOWS['5m'], 5 * MINUTE);
    assert.equal(WINDOWS['1h'], HOUR);
    assert.equal(WINDOWS['1d'], DAY);
    for (const [name, length] of Object.entries(WINDOWS)) assert.equal(DAY % length, 0, name);
  });

  it('aligns 5m, 1h and 1d windows to the UTC clock', () => {
    const t = at('2026-05-12T14:37:12.345Z');
    assert.equal(iso(windowStart(t, 5 * MINUTE, 'UTC')), '2026-05-12T14:35:00.000Z');
    assert.equal(iso(windowStart(t, HOUR, 'UTC')), '2026-05-12T14:00:00.000Z');
    assert.equal(iso(windowStart(t, DAY, 'UTC')), '2026-05-12T00:00:00.000Z');
    // An instant exactly on a boundary starts the window; a millisecond before it is in the previous one.
    const b = at('2026-05-12T14:00:00Z');
    assert.equal(windowStart(b, HOUR, 'UTC'), b);
    assert.equal(windowStart(b, 5 * MINUTE, 'UTC'), b);
    assert.equal(iso(windowStart(b - 1, HOUR, 'UTC')), '2026-05-12T13:00:00.000Z');
    assert.equal(iso(windowStart(b - 1, 5 * MINUTE, 'UTC')), '2026-05-12T13:55:00.000Z');
    assert.equal(iso(windowStart(at('2026-05-12T00:00:00Z') - 1, DAY, 'UTC')), '2026-05-11T00:00:00.000Z');
  });

  it('aligns windows to the local clock of a zone (Berlin in summer, +02:00)', () => {
    const t = at('2026-07-01T21:47:00Z'); // 23:47 local
    assert.equal(iso(windowStart(t, HOUR, BERLIN)), '2026-07-01T21:00:00.000Z');
    assert.equal(iso(windowStart(t, 5 * MINUTE, BERLIN)), '2026-07-01T21:45:00.000Z');
    assert.equal(iso(windowStart(t, DAY, BERLIN)), '2026-06-30T22:00:00.000Z');
    // 00:10 local the next day is already in the next local day.
    assert.equal(iso(windowStart(at('2026-07-01T22:10:00Z'), DAY, BERLIN)), '2026-07-01T22:00:00.000Z');
  });

  it('chains windows in UTC: each starts where the last ended and lasts its length', () => {
    const ws = chain(at('2026-05-12T22:52:00Z'), at('2026-05-13T00:20:00Z'), 5 * MINUTE, 'UTC');
    assert.equal(iso(ws[0]!.from), '2026-05-12T22:50:00.000Z');
    assert.equal(ws.length, 18);
    for (let i = 0; i < ws.length; i++) {
      assert.equal(ws[i]!.to - ws[i]!.from, 5 * MINUTE);
      if (i > 0) assert.equal(ws[i]!.from, ws[i - 1]!.to);
      assert.deepEqual(previousWindow(ws[i]!, 5 * MINUTE, 'UTC'), i > 0 ? ws[i - 1] : { from: ws[0]!.from - 5 * MINUTE, to: ws[0]!.from });
    }
    const d = nextWindow({ from: at('2026-05-12T00:00:00Z'), to: at('2026-05-13T00:00:00Z') }, DAY, 'UTC');
    assert.deepEqual(span(d), ['2026-05-13T00:00:00.000Z', '2026-05-14T00:00:00.000Z']);
  });

  describe('in Berlin on the spring change (2026-03-29, 02:00 → 03:00)', () => {
    const dayFrom = at('2026-03-28T23:00:00Z'); // 00:00 CET
    const dayTo = at('2026-03-29T22:00:00Z'); // 00:00 CEST

    it('a 1d window is the local day, 23 hours long', () => {
      for (const t of [dayFrom, dayFrom + 1, at('2026-03-29T01:00:00Z'), at('2026-03-29T12:00:00Z'), dayTo - 1]) {
        assert.equal(iso(windowStart(t, DAY, BERLIN)), iso(dayFrom), iso(t));
      }
      assert.equal(windowStart(dayTo, DAY, BERLIN), dayTo);
      const before: Window = { from: windowStart(dayFrom - 1, DAY, BERLIN), to: dayFrom };
      assert.equal(before.to - before.from, 24 * HOUR);
      const day = nextWindow(before, DAY, BERLIN);
      assert.deepEqual(span(day), [iso(dayFrom), iso(dayTo)]);
      assert.equal(day.to - day.from, 23 * HOUR);
      assert.deepEqual(previousWindow(day, DAY, BERLIN), before);
      const after = nextWindow(day, DAY, BERLIN);
      assert.deepEqual(span(after), [iso(dayTo), '2026-03-30T22:00:00.000Z']);
      assert.deepEqual(previousWindow(after, DAY, BERLIN), day);
    });

    it('1h windows stay on local hour boundaries: 23 of them, the local 02:00 hour skipped', () => {
      const hours = chain(dayFrom, dayTo, HOUR, BERLIN);
      assert.equal(hours.length, 23);
      const labels = hours.map((w) => timeOfDayLabel(w.from, BERLIN));
      assert.deepEqual(labels.slice(0, 4), ['00:00', '01:00', '03:00', '04:00']);
      assert.equal(labels.at(-1), '23:00');
      for (let i = 0; i < hours.length; i++) {
        const w = hours[i]!;
        assert.equal(w.to - w.from, HOUR);
        assert.equal(windowStart(w.from, HOUR, BERLIN), w.from);
        assert.equal(windowStart(w.from + 30 * MINUTE, HOUR, BERLIN), w.from);
        assert.equal(windowStart(w.to - 1, HOUR, BERLIN), w.from);
        if (i > 0) assert.deepEqual(previousWindow(w, HOUR, BERLIN), hours[i - 1]);
      }
      // 01:30 UTC is 03:30 CEST: its hour starts at 03:00 local, 01:00 UTC.
      assert.equal(iso(windowStart(at('2026-03-29T01:30:00Z'), HOUR, BERLIN)), '2026-03-29T01:00:00.000Z');
      assert.equal(iso(windowStart(at('2026-03-29T01:07:00Z'), 5 * MINUTE, BERLIN)), '2026-03-29T01:05:00.000Z');
    });
  });

  describe('in Berlin on the autumn change (2026-10-25, 03:00 → 02:00)', () => {
    const dayFrom = at('2026-10-24T22:00:00Z'); // 00:00 CEST
    const dayTo = at('2026-10-25T23:00:00Z'); // 00:00 CET

    it('a 1d window is the local day, 25 hours long', () => {
      for (const t of [dayFrom, at('2026-10-25T00:30:00Z'), at('2026-10-25T01:30:00Z'), dayTo - 1]) {
        assert.equal(iso(windowStart(t, DAY, BERLIN)), iso(dayFrom), iso(t));
      }
      const before: Window = { from: windowStart(dayFrom - 1, DAY, BERLIN), to: dayFrom };
      const day = nextWindow(before, DAY, BERLIN);
      assert.deepEqual(span(day), [iso(dayFrom), iso(dayTo)]);
      assert.equal(day.to - day.from, 25 * HOUR);
      assert.deepEqual(previousWindow(day, DAY, BERLIN), before);
      const after = nextWindow(day, DAY, BERLIN);
      assert.equal(after.to - after.from, 24 * HOUR);
      assert.deepEqual(previousWindow(after, DAY, BERLIN), day);
    });

    it('1h windows chained forwards stay on local hour boundaries: 25 of them, 02:00 twice', () => {
      const hours = chain(dayFrom, dayTo, HOUR, BERLIN);
      assert.equal(hours.length, 25);
      const labels = hours.map((w) => timeOfDayLabel(w.from, BERLIN));
      assert.deepEqual(labels.slice(0, 5), ['00:00', '01:00', '02:00', '02:00', '03:00']);
      assert.equal(labels.at(-1), '23:00');
      for (let i = 0; i < hours.length; i++) {
        assert.equal(hours[i]!.to - hours[i]!.from, HOUR);
        if (i > 0) assert.equal(hours[i]!.from, hours[i - 1]!.to);
      }
    });

    it('windowStart of an instant in the repeated hour is at or before it (the first 02:00 hour, still CEST)', () => {
      // 00:30 UTC is 02:30 CEST: its hour is 00:00–01:00 UTC, its 5-minute window 00:30–00:35 UTC.
      const t = at('2026-10-25T00:30:00Z');
      assert.equal(iso(windowStart(t, HOUR, BERLIN)), '2026-10-25T00:00:00.000Z');
      assert.equal(iso(windowStart(t, 5 * MINUTE, BERLIN)), '2026-10-25T00:30:00.000Z');
      // The second 02:00 hour (CET) is fine.
      assert.equal(iso(windowStart(at('2026-10-25T01:30:00Z'), HOUR, BERLIN)), '2026-10-25T01:00:00.000Z');
    });

    it('previousWindow chains back through the repeated hour to the forward chain', () => {
      const hours = chain(dayFrom, dayTo, HOUR, BERLIN);
      let w = hours.at(-1)!;
      const back: Window[] = [w];
      for (let i = 1; i < hours.length; i++) back.unshift((w = previousWindow(w, HOUR, BERLIN)));
      assert.deepEqual(back.map(span), hours.map(span));
    });
  });

  describe('in New York on the autumn change (2026-11-01, 02:00 EDT → 01:00 EST)', () => {
    const NY = 'America/New_York';

    it('windowStart puts each of the two local 01:00 hours in its own window', () => {
      assert.equal(iso(windowStart(at('2026-11-01T05:30:00Z'), HOUR, NY)), '2026-11-01T05:00:00.000Z'); // 01:30 EDT
      assert.equal(iso(windowStart(at('2026-11-01T06:30:00Z'), HOUR, NY)), '2026-11-01T06:00:00.000Z'); // 01:30 EST
      assert.equal(iso(windowStart(at('2026-11-01T06:32:00Z'), 5 * MINUTE, NY)), '2026-11-01T06:30:00.000Z');
    });

    it('1h windows chain forwards and backwards through the repeated hour, 25 in the local day', () => {
      const dayFrom = at('2026-11-01T04:00:00Z'); // 00:00 EDT
      const dayTo = at('2026-11-02T05:00:00Z'); // 00:00 EST
      const day = nextWindow({ from: 0, to: windowStart(dayFrom, DAY, NY) }, DAY, NY);
      assert.deepEqual(span(day), [iso(dayFrom), iso(dayTo)]);
      const hours = chain(dayFrom, dayTo, HOUR, NY);
      assert.deepEqual(
        hours.slice(0, 4).map((w) => [iso(w.from), timeOfDayLabel(w.from, NY)]),
        [
          ['2026-11-01T04:00:00.000Z', '00:00'],
          ['2026-11-01T05:00:00.000Z', '01:00'],
          ['2026-11-01T06:00:00.000Z', '01:00'],
          ['2026-11-01T07:00:00.000Z', '02:00'],
        ],
      );
      assert.equal(hours.length, 25);
      for (const w of hours) assert.equal(w.to - w.from, HOUR);
      assert.deepEqual(previousWindow({ from: at('2026-11-01T07:00:00Z'), to: at('2026-11-01T08:00:00Z') }, HOUR, NY), {
        from: at('2026-11-01T06:00:00Z'),
        to: at('2026-11-01T07:00:00Z'),
      });
    });
  });

  describe('lastCompleteWindow', () => {
    it('is the last window that ended at least `delay` ago, checked on and around a boundary', () => {
      const b = at('2026-05-12T14:00:00Z');
      const delay = 2 * MINUTE;
      const cases: [number, string][] = [
        [b, '2026-05-12T12:00:00.000Z'], // 14:00 − 2 min is inside 13:00–14:00, still filling
        [b + delay - 1, '2026-05-12T12:00:00.000Z'],
        [b + delay, '2026-05-12T13:00:00.000Z'], // exactly 2 min after 14:00: 13:00–14:00 is complete
        [b + delay + 1, '2026-05-12T13:00:00.000Z'],
        [b + 59 * MINUTE, '2026-05-12T13:00:00.000Z'],
      ];
      for (const [now, from] of cases) {
        const w = lastCompleteWindow(now, HOUR, 'UTC', delay);
        assert.equal(iso(w.from), from, iso(now));
        assert.equal(w.to - w.from, HOUR);
        assert.ok(w.to <= now - delay);
      }
      // Without a delay, a window ending exactly now is complete.
      assert.deepEqual(span(lastCompleteWindow(b, HOUR, 'UTC', 0)), ['2026-05-12T13:00:00.000Z', '2026-05-12T14:00:00.000Z']);
      assert.deepEqual(span(lastCompleteWindow(b - 1, HOUR, 'UTC', 0)), ['2026-05-12T12:00:00.000Z', '2026-05-12T13:00:00.000Z']);
      assert.deepEqual(span(lastCompleteWindow(at('2026-05-12T00:01:00Z'), DAY, 'UTC', 2 * MINUTE)), [
        '2026-05-10T00:00:00.000Z',
        '2026-05-11T00:00:00.000Z',
      ]);
    });

    /** Every `stepMs` from `from` to `to`: the window returned ended by now − delay, and the next one has not. */
    function sweep(from: number, to: number, stepMs: number, length: number, tz: string, delay: number) {
      for (let now = from; now <= to; now += stepMs) {
        const w = lastCompleteWindow(now, length, tz, delay);
        const label = `${iso(now)} ${length / MINUTE}m ${tz}`;
        assert.ok(w.to <= now - delay, `${label}: ends ${iso(w.to)}, after now − delay`);
        assert.ok(w.from < w.to, `${label}: empty window at ${iso(w.from)}`);
        assert.equal(windowStart(w.from, length, tz), w.from, label);
        assert.equal(nextWindow(w, length, tz).from, w.to, label);
        assert.ok(nextWindow(w, length, tz).to > now - delay, `${label}: a later window ${iso(w.to)}… is already complete`);
      }
    }

    it('never returns a window ending after now − delay, nor skips a complete one (UTC, Kolkata, Berlin in spring)', () => {
      const delay = 90_000;
      for (const length of [5 * MINUTE, HOUR, DAY]) {
        sweep(at('2026-05-12T22:00:00Z'), at('2026-05-13T02:00:00Z'), 7 * MINUTE + 13_000, length, 'UTC', delay);
        sweep(at('2026-05-12T17:00:00Z'), at('2026-05-12T20:00:00Z'), 7 * MINUTE + 13_000, length, 'Asia/Kolkata', delay);
        sweep(at('2026-03-28T22:00:00Z'), at('2026-03-29T04:00:00Z'), 7 * MINUTE + 13_000, length, BERLIN, delay);
      }
      // Exactly on boundaries (now − delay on a window's end).
      for (let end = at('2026-03-28T22:00:00Z'); end <= at('2026-03-29T04:00:00Z'); end += 5 * MINUTE) {
        sweep(end + delay, end + delay, 1, 5 * MINUTE, BERLIN, delay);
        sweep(end + delay - 1, end + delay - 1, 1, 5 * MINUTE, BERLIN, delay);
      }
    });

    it('never returns a window ending after now − delay, nor an empty one, on the autumn change (Berlin, New York)', () => {
      const delay = 90_000;
      // 00:07 + 1.5 min UTC is 02:08:30 CEST, in the first 02:00 hour: the last complete 5-minute
      // window is 00:00–00:05 UTC, and the last complete hour 23:00–00:00 UTC.
      const now = at('2026-10-25T00:07:00Z') + delay;
      assert.deepEqual(span(lastCompleteWindow(now, 5 * MINUTE, BERLIN, delay)), ['2026-10-25T00:00:00.000Z', '2026-10-25T00:05:00.000Z']);
      assert.deepEqual(span(lastCompleteWindow(now, HOUR, BERLIN, delay)), ['2026-10-24T23:00:00.000Z', '2026-10-25T00:00:00.000Z']);
      for (const length of [5 * MINUTE, HOUR, DAY]) {
        sweep(at('2026-10-24T22:00:00Z'), at('2026-10-25T04:00:00Z'), 7 * MINUTE + 13_000, length, BERLIN, delay);
        sweep(at('2026-11-01T03:00:00Z'), at('2026-11-01T09:00:00Z'), 7 * MINUTE + 13_000, length, 'America/New_York', delay);
      }
    });
  });

  describe('shiftDays', () => {
    it('a week back keeps the local hour-of-week across the spring change', () => {
      // Tuesday 2026-03-31 14:00–15:00 CEST; a week before, the clocks were an hour behind (CET).
      const w: Window = { from: at('2026-03-31T12:00:00Z'), to: at('2026-03-31T13:00:00Z') };
      const back = shiftDays(w, 7, BERLIN);
      assert.deepEqual(span(back), ['2026-03-24T13:00:00.000Z', '2026-03-24T14:00:00.000Z']);
      assert.equal(hourOfWeekLabel(back.from, BERLIN), 'Tue 14:00');
      assert.equal(hourOfWeekLabel(w.from, BERLIN), 'Tue 14:00');
      const two = shiftDays(w, 14, BERLIN);
      assert.deepEqual(span(two), ['2026-03-17T13:00:00.000Z', '2026-03-17T14:00:00.000Z']);
    });

    it('a week back keeps the local hour-of-week across the autumn change', () => {
      // Tuesday 2026-10-27 09:00–10:00 CET; a week before it was CEST.
      const w: Window = { from: at('2026-10-27T08:00:00Z'), to: at('2026-10-27T09:00:00Z') };
      const back = shiftDays(w, 7, BERLIN);
      assert.deepEqual(span(back), ['2026-10-20T07:00:00.000Z', '2026-10-20T08:00:00.000Z']);
      assert.equal(hourOfWeekLabel(back.from, BERLIN), hourOfWeekLabel(w.from, BERLIN));
      assert.equal(hourOfWeekLabel(back.from, BERLIN), 'Tue 09:00');
    });

    it('shifts a local day onto the local day, whatever its length', () => {
      // Monday 2026-03-30 (24 h) one day back is Sunday 2026-03-29 (23 h).
      const monday: Window = { from: at('2026-03-29T22:00:00Z'), to: at('2026-03-30T22:00:00Z') };
      const sunday = shiftDays(monday, 1, BERLIN);
      assert.deepEqual(span(sunday), ['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);
      // In UTC a shift is whole days of 24 h.
      const u: Window = { from: at('2026-03-31T12:00:00Z'), to: at('2026-03-31T12:05:00Z') };
      assert.deepEqual(span(shiftDays(u, 7, 'UTC')), ['2026-03-24T12:00:00.000Z', '2026-03-24T12:05:00.000Z']);
    });
  });

  describe('in Asia/Kolkata (+05:30)', () => {
    const KOLKATA = 'Asia/Kolkata';

    it('a 1d window starts at local midnight, 18:30 UTC the day before', () => {
      assert.equal(iso(windowStart(at('2026-06-10T20:00:00Z'), DAY, KOLKATA)), '2026-06-10T18:30:00.000Z'); // 01:30 on 06-11
      assert.equal(iso(windowStart(at('2026-06-10T18:00:00Z'), DAY, KOLKATA)), '2026-06-09T18:30:00.000Z'); // 23:30 on 06-10
      assert.equal(iso(windowStart(at('2026-06-10T18:30:00Z'), DAY, KOLKATA)), '2026-06-10T18:30:00.000Z');
      const d = lastCompleteWindow(at('2026-06-10T18:32:00Z'), DAY, KOLKATA, MINUTE);
      assert.deepEqual(span(d), ['2026-06-09T18:30:00.000Z', '2026-06-10T18:30:00.000Z']);
      assert.equal(timeOfDayLabel(d.from, KOLKATA), '00:00');
    });

    it('a 1h window starts on the local hour, half past in UTC', () => {
      assert.equal(iso(windowStart(at('2026-06-10T10:10:00Z'), HOUR, KOLKATA)), '2026-06-10T09:30:00.000Z');
      assert.equal(iso(windowStart(at('2026-06-10T10:40:00Z'), HOUR, KOLKATA)), '2026-06-10T10:30:00.000Z');
      assert.equal(iso(windowStart(at('2026-06-10T10:10:00Z'), 5 * MINUTE, KOLKATA)), '2026-06-10T10:10:00.000Z');
    });
  });

  it('labels a window by local weekday and time', () => {
    assert.equal(hourOfWeekLabel(at('2026-04-14T12:00:00Z'), BERLIN), 'Tue 14:00');
    assert.equal(hourOfWeekLabel(at('2026-04-14T22:30:00Z'), BERLIN), 'Wed 00:30');
    assert.equal(timeOfDayLabel(at('2026-04-14T22:30:00Z'), BERLIN), '00:30');
    assert.equal(timeOfDayLabel(at('2026-04-14T22:30:00Z'), 'UTC'), '22:30');
  });
});
