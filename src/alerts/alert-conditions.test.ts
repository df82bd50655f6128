import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeChange, judgeThreshold } from './alert-conditions.js';

describe('alert conditions', () => {
  describe('thresholds', () => {
    it('greater_than is strict', () => {
      assert.equal(judgeThreshold('greater_than', 101, 100).outcome, 'breach');
      assert.equal(judgeThreshold('greater_than', 100, 100).outcome, 'clear');
      assert.equal(judgeThreshold('greater_than', 99.5, 100).outcome, 'clear');
      assert.equal(judgeThreshold('greater_than', -1, -2).outcome, 'breach');
      const r = judgeThreshold('greater_than', 101, 100);
      assert.deepEqual(r.bound, { threshold: 100 });
      assert.equal(r.explanation, '101 is greater than 100');
      assert.equal(judgeThreshold('greater_than', 100, 100).explanation, '100 is not greater than 100');
    });

    it('less_than is strict', () => {
      assert.equal(judgeThreshold('less_than', 99, 100).outcome, 'breach');
      assert.equal(judgeThreshold('less_than', 100, 100).outcome, 'clear');
      assert.equal(judgeThreshold('less_than', 0, 0.5).outcome, 'breach');
      assert.equal(judgeThreshold('less_than', 99, 100).explanation, '99 is less than 100');
      assert.equal(judgeThreshold('less_than', 101, 100).explanation, '101 is not less than 100');
    });

    it('equals and not_equals', () => {
      assert.equal(judgeThreshold('equals', 0, 0).outcome, 'breach');
      assert.equal(judgeThreshold('equals', 1, 0).outcome, 'clear');
      assert.equal(judgeThreshold('equals', 0, 0).explanation, '0 is equal to 0');
      assert.equal(judgeThreshold('not_equals', 1, 0).outcome, 'breach');
      assert.equal(judgeThreshold('not_equals', 0, 0).outcome, 'clear');
      assert.equal(judgeThreshold('not_equals', 2.5, 0).explanation, '2.5 is not equal to 0');
    });

    it('no value is no data, whatever the condition', () => {
      for (const c of ['greater_than', 'less_than', 'equals', 'not_equals'] as const) {
        const r = judgeThreshold(c, null, 0);
        assert.equal(r.outcome, 'no_data', c);
        assert.equal(r.bound, undefined);
        assert.match(r.explanation, /no value/);
      }
    });
  });

  describe('percent changes', () => {
    it('change_pct_up: the rise in percent of the previous value, at least the threshold', () => {
      const r = judgeChange('change_pct_up', 150, 100, 20);
      assert.equal(r.outcome, 'breach');
      assert.deepEqual(r.bound, { threshold: 20, previous: 100 });
      assert.equal(r.explanation, '150 against 100 the window before (+50%) is up by at least 20%');
      assert.equal(judgeChange('change_pct_up', 120, 100, 20).outcome, 'breach', 'exactly the threshold');
      assert.equal(judgeChange('change_pct_up', 119, 100, 20).outcome, 'clear');
      const down = judgeChange('change_pct_up', 50, 100, 20);
      assert.equal(down.outcome, 'clear');
      assert.equal(down.explanation, '50 against 100 the window before (-50%) is not up by at least 20%');
      assert.equal(judgeChange('change_pct_up', 300, 200, 50).outcome, 'breach');
      assert.equal(judgeChange('change_pct_up', 299, 200, 50).outcome, 'clear');
    });

    it('change_pct_down: the fall in percent of the previous value, at least the threshold', () => {
      const r = judgeChange('change_pct_down', 70, 100, 30);
      assert.equal(r.outcome, 'breach');
      assert.equal(r.explanation, '70 against 100 the window before (-30%) is down by at least 30%');
      assert.equal(judgeChange('change_pct_down', 71, 100, 30).outcome, 'clear');
      assert.equal(judgeChange('change_pct_down', 200, 100, 30).outcome, 'clear');
      assert.equal(judgeChange('change_pct_down', 0, 100, 100).outcome, 'breach', 'a fall to nothing is -100%');
      assert.equal(judgeChange('change_pct_down', 1, 3, 50).outcome, 'breach'); // −66.7%
      assert.equal(judgeChange('change_pct_down', 1, 3, 50).explanation, '1 against 3 the window before (-66.667%) is down by at least 50%');
    });

    it('measures a change from a negative value against its size', () => {
      // −100 → −50 is a rise of 50% of 100.
      assert.equal(judgeChange('change_pct_up', -50, -100, 50).outcome, 'breach');
      assert.equal(judgeChange('change_pct_down', -50, -100, 10).outcome, 'clear');
      assert.equal(judgeChange('change_pct_down', -150, -100, 50).outcome, 'breach');
    });

    it('a change from 0 has no percentage and is clear', () => {
      for (const c of ['change_pct_up', 'change_pct_down'] as const) {
        const r = judgeChange(c, 5, 0, 10);
        assert.equal(r.outcome, 'clear', c);
        assert.deepEqual(r.bound, { threshold: 10, previous: 0 });
        assert.match(r.explanation, /against 0 the window before: a change from 0 has no percentage/);
      }
      assert.equal(judgeChange('change_pct_up', 0, 0, 10).outcome, 'clear');
    });

    it('no value now or before is no data', () => {
      const now = judgeChange('change_pct_up', null, 100, 10);
      assert.equal(now.outcome, 'no_data');
      assert.match(now.explanation, /no value was measured in this window/);
      const before = judgeChange('change_pct_down', 100, null, 10);
      assert.equal(before.outcome, 'no_data');
      assert.match(before.explanation, /in the window before/);
      assert.equal(judgeChange('change_pct_up', null, null, 10).outcome, 'no_data');
      assert.equal(judgeChange('change_pct_up', null, 0, 10).outcome, 'no_data');
    });

    it('a change of exactly the threshold is a breach for any whole percentage', () => {
      // 129 against 100 is +29%, "up by at least 29%"; (29 / 100) * 100 is 28.999999999999996 in floating point.
      const wrong: string[] = [];
      for (let pct = 1; pct <= 100; pct++) {
        if (judgeChange('change_pct_up', 100 + pct, 100, pct).outcome !== 'breach') wrong.push(`+${pct}%`);
        if (judgeChange('change_pct_down', 100 - pct, 100, pct).outcome !== 'breach') wrong.push(`-${pct}%`);
      }
      assert.deepEqual(wrong, []);
      const r = judgeChange('change_pct_up', 129, 100, 29);
      assert.equal(r.explanation, '129 against 100 the window before (+29%) is up by at least 29%');
    });
  });
});
