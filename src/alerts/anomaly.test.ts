import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnomalySettings } from './alert.types.js';
import { shiftDays, type Window } from './alert-window.js';
import { band, baselinePlan, DEFAULT_ANOMALY, formatNumber, judgeAnomaly, MAD_SCALE, median, MIN_SAMPLES, type BaselinePlan } from './anomaly.js';

const DAY = 86_400_000;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const BERLIN = 'Europe/Berlin';
const close = (actual: number, expected: number, what = '') => assert.ok(Math.abs(actual - expected) < 1e-9, `${what} ${actual} ≠ ${expected}`);

// Tuesday 2026-04-14, 14:00–15:00 in Berlin (CEST): three weeks back lies before the spring change.
const w: Window = { from: at('2026-04-14T12:00:00Z'), to: at('2026-04-14T13:00:00Z') };
const settings = (s: Partial<AnomalySettings> = {}): AnomalySettings => ({ ...DEFAULT_ANOMALY, ...s });
const weekly: BaselinePlan = { mode: 'hour_of_week', windows: [] };
const daily: BaselinePlan = { mode: 'hour_of_day', windows: [] };

describe('anomaly bands', () => {
  it('median of odd and even counts, unsorted, without changing its input', () => {
    const v = [5, 1, 4, 2, 3];
    assert.equal(median(v), 3);
    assert.deepEqual(v, [5, 1, 4, 2, 3]);
    assert.equal(median([10, 2, 4, 8]), 6);
    assert.equal(median([7]), 7);
    assert.equal(median([-3, -1, -2]), -2);
  });

  it('is median ± sensitivity × 1.4826 × MAD when the MAD dominates', () => {
    // median 100, deviations 0, 40, 40, 20, 20 → MAD 20, spread 29.652 (> 5% of 100 = 5, > √100 = 10).
    const b = band([100, 140, 60, 120, 80], 3, true);
    assert.equal(b.median, 100);
    assert.equal(b.mad, 20);
    close(b.spread, MAD_SCALE * 20, 'spread');
    close(b.lower, 100 - 3 * 1.4826 * 20, 'lower');
    close(b.upper, 100 + 3 * 1.4826 * 20, 'upper');
    assert.equal(MAD_SCALE, 1.4826);
    const wider = band([100, 140, 60, 120, 80], 4, true);
    close(wider.upper - wider.lower, 2 * 4 * 1.4826 * 20, 'width at sensitivity 4');
  });

  it('is at least 5% of the median, so a very regular series has room', () => {
    // MAD 0: spread 5% of 200 = 10 (not a count, so no √median).
    const b = band([200, 200, 200, 200], 3, false);
    assert.equal(b.mad, 0);
    close(b.spread, 10);
    close(b.lower, 170);
    close(b.upper, 230);
    // One unusual week does not widen it (the MAD stays 0).
    const outlier = band([200, 200, 200, 200, 5000], 3, false);
    assert.equal(outlier.median, 200);
    close(outlier.spread, 10);
    // 5% of a negative median's size.
    close(band([-200, -200, -200], 2, false).spread, 10);
  });

  it('for counts is at least √median (and at least 1 around zero)', () => {
    // 5% of 400 = 20 = √400: use 100, where √100 = 10 > 5.
    const b = band([100, 100, 100], 3, true);
    close(b.spread, 10);
    close(b.lower, 70);
    close(b.upper, 130);
    // The same samples as a non-count only get 5%.
    close(band([100, 100, 100], 3, false).spread, 5);
    // A quiet series: 2 instead of 4 is not news.
    const quiet = band([4, 4, 4], 3, true);
    close(quiet.spread, 2);
    close(quiet.lower, -2);
    const zero = band([0, 0, 0], 3, true);
    close(zero.spread, 1);
    close(zero.upper, 3);
    close(band([0, 0, 0], 3, false).spread, 0);
  });
});

describe('baseline plans', () => {
  it('is null without history', () => {
    assert.equal(baselinePlan(w, settings(), BERLIN, null), null);
  });

  it('uses the same hour-of-week of the last `weeks` weeks when the history is long enough', () => {
    const plan = baselinePlan(w, settings({ weeks: 4 }), BERLIN, at('2025-01-01T00:00:00Z'))!;
    assert.equal(plan.mode, 'hour_of_week');
    assert.deepEqual(
      plan.windows.map((x) => iso(x.from)),
      // 14:00 local each Tuesday: CEST, CEST, then CET before 2026-03-29.
      ['2026-04-07T12:00:00.000Z', '2026-03-31T12:00:00.000Z', '2026-03-24T13:00:00.000Z', '2026-03-17T13:00:00.000Z'],
    );
    for (const x of plan.windows) assert.equal(x.to - x.from, 3_600_000);
    assert.equal(baselinePlan(w, settings({ weeks: 6 }), BERLIN, at('2025-01-01T00:00:00Z'))!.windows.length, 6);
  });

  it('keeps only weeks after the first event, and needs 3 of them', () => {
    const third = shiftDays(w, 21, BERLIN).from;
    const exactly3 = baselinePlan(w, settings({ weeks: 4 }), BERLIN, third)!;
    assert.equal(exactly3.mode, 'hour_of_week');
    assert.equal(exactly3.windows.length, MIN_SAMPLES);
    assert.ok(exactly3.windows.every((x) => x.from >= third));
    // A millisecond later the third week is before the history: the same time on past days instead.
    const short = baselinePlan(w, settings({ weeks: 4 }), BERLIN, third + 1)!;
    assert.equal(short.mode, 'hour_of_day');
    assert.equal(short.windows.length, 7);
    assert.deepEqual(short.windows[0], shiftDays(w, 1, BERLIN));
    assert.deepEqual(short.windows[6], shiftDays(w, 7, BERLIN));
  });

  it('uses past days with a history of at least 3 days, and none with less', () => {
    const three = baselinePlan(w, settings(), BERLIN, shiftDays(w, 3, BERLIN).from)!;
    assert.equal(three.mode, 'hour_of_day');
    assert.deepEqual(
      three.windows.map((x) => iso(x.from)),
      ['2026-04-13T12:00:00.000Z', '2026-04-12T12:00:00.000Z', '2026-04-11T12:00:00.000Z'],
    );
    assert.equal(baselinePlan(w, settings(), BERLIN, shiftDays(w, 3, BERLIN).from + 1), null);
    assert.equal(baselinePlan(w, settings(), BERLIN, w.from - 2 * DAY), null);
    assert.equal(baselinePlan(w, settings(), BERLIN, w.from), null);
  });
});

describe('judging anomalies', () => {
  // A stable weekly series: median 1000, MAD 10 (14.826), 5% = 50, √1000 ≈ 31.6 → spread 50, band 850 to 1150.
  const stable = [980, 1000, 1020, 1000];
  const judge = (value: number | null, s: Partial<AnomalySettings> = {}, samples: (number | null)[] = stable, plan = weekly, countLike = true) =>
    judgeAnomaly(value, plan, samples, settings(s), countLike, w, BERLIN);

  it('flags a 30% drop and a 2× spike, with the band as the bound', () => {
    const drop = judge(700);
    assert.equal(drop.outcome, 'breach');
    assert.deepEqual(drop.bound, { expected: 1000, lower: 850, upper: 1150 });
    assert.match(drop.explanation, /^observed 700 is below the expected 850 to 1150 \(-30% from the median\)/);
    const spike = judge(2000);
    assert.equal(spike.outcome, 'breach');
    assert.match(spike.explanation, /^observed 2000 is above the expected 850 to 1150 \(\+100% from the median\)/);
  });

  it('does not flag a value inside the band, nor on its edges', () => {
    for (const v of [1000, 1100, 900, 1150, 850]) {
      const r = judge(v);
      assert.equal(r.outcome, 'clear', String(v));
      assert.match(r.explanation, new RegExp(`^observed ${v} is within the expected 850 to 1150`));
    }
    assert.equal(judge(1151).outcome, 'breach');
    assert.equal(judge(849).outcome, 'breach');
  });

  it("respects the direction: 'up' flags only spikes, 'down' only drops", () => {
    assert.equal(judge(700, { direction: 'up' }).outcome, 'clear');
    assert.equal(judge(2000, { direction: 'up' }).outcome, 'breach');
    assert.equal(judge(700, { direction: 'down' }).outcome, 'breach');
    assert.equal(judge(2000, { direction: 'down' }).outcome, 'clear');
    assert.equal(judge(700, { direction: 'both' }).outcome, 'breach');
  });

  it('a higher sensitivity widens the band', () => {
    // 5 × 50 = 250: 800 is inside 750 to 1250.
    const r = judge(800, { sensitivity: 5 });
    assert.equal(r.outcome, 'clear');
    assert.deepEqual(r.bound, { expected: 1000, lower: 750, upper: 1250 });
    assert.equal(judge(800, { sensitivity: 3 }).outcome, 'breach');
  });

  it('minVolume suppresses flags only when both the observed value and the median are below it', () => {
    const quietDrop = judge(700, { minVolume: 5000 });
    assert.equal(quietDrop.outcome, 'clear');
    assert.match(quietDrop.explanation, /outside the expected 850 to 1150, but below the minimum volume 5000/);
    // The median (1000) reaches the minimum volume: a drop is still flagged.
    assert.equal(judge(700, { minVolume: 1000 }).outcome, 'breach');
    // The observed value reaches it: a spike over a quiet median is flagged.
    assert.equal(judge(2000, { minVolume: 1500 }).outcome, 'breach');
    // Both below: a spike is quiet too.
    assert.equal(judge(2000, { minVolume: 2001 }).outcome, 'clear');
    // minVolume never turns a value inside the band into a breach.
    assert.equal(judge(1000, { minVolume: 5000 }).outcome, 'clear');
  });

  it('returns no_data without a value, and learning with fewer than 3 known samples', () => {
    const none = judge(null);
    assert.equal(none.outcome, 'no_data');
    assert.equal(none.bound, undefined);
    assert.equal(judge(null, {}, [1000]).outcome, 'no_data');
    const learning = judge(5000, {}, [1000, null, 990, Number.NaN]);
    assert.equal(learning.outcome, 'learning');
    assert.equal(learning.bound, undefined);
    assert.match(learning.explanation, /2 past window\(s\) with a value, 3 needed/);
    assert.equal(judge(5000, {}, []).outcome, 'learning');
    // Missing samples are left out of the band: three known ones are enough.
    const three = judge(5000, {}, [1000, null, 990, 1010]);
    assert.equal(three.outcome, 'breach');
    assert.equal(three.bound!.expected, 1000);
  });

  it('explains the observed value, the band and how it was computed', () => {
    const r = judge(700);
    assert.equal(
      r.explanation,
      'observed 700 is below the expected 850 to 1150 (-30% from the median); ' +
        'median 1000 ± 3 × 50 (spread: 1.4826 × MAD 10, at least 5% of the median and √median) ' +
        'of the same hour-of-week (Tue 14:00) in the last 4 weeks: 980, 1000, 1020, 1000',
    );
    // Not a count: no √median; with a short history: the time of day on past days.
    const d = judge(1000, {}, [980, 1000, 1020], daily, false);
    assert.match(d.explanation, /^observed 1000 is within the expected 850 to 1150; /);
    assert.match(d.explanation, /\(spread: 1\.4826 × MAD 20, at least 5% of the median\) of the same time of day \(14:00\) on the last 3 days \(history shorter than 3 weeks\): 980, 1000, 1020$/);
    assert.doesNotMatch(d.explanation, /√median/);
  });

  it('formats fractional numbers briefly', () => {
    assert.equal(formatNumber(3), '3');
    assert.equal(formatNumber(2.5), '2.5');
    assert.equal(formatNumber(1.23456), '1.235');
    assert.equal(formatNumber(1234.56), '1234.56');
    assert.equal(formatNumber(1234.567), '1234.57');
    assert.equal(formatNumber(100.004), '100');
    assert.equal(formatNumber(-0.25), '-0.25');
    const r = judgeAnomaly(3.5, weekly, [1.2, 1.3, 1.25], settings(), false, w, BERLIN);
    assert.equal(r.outcome, 'breach');
    assert.match(r.explanation, /^observed 3\.5 is above the expected 1\.028 to 1\.472 \(\+180% from the median\)/);
  });
});
