import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFormula, FormulaError, parseFormula, seriesNames } from './formula.js';

const sql = (text: string) => compileFormula(parseFormula(text), (name) => `alias_of_${name}`);

describe('formulas', () => {
  it('compiles arithmetic over series aliases, with division by zero as NULL (SQL pinned)', () => {
    assert.equal(
      sql('(delivered / sent) * 100'),
      '(if(toFloat64(alias_of_sent) = 0, NULL, toFloat64(alias_of_delivered) / toFloat64(alias_of_sent)) * toFloat64(100))',
    );
    assert.equal(sql('-a + 2.5'), '((-toFloat64(alias_of_a)) + toFloat64(2.5))');
    assert.equal(sql('round(a, 2)'), 'round(toFloat64(alias_of_a), 2)');
    assert.equal(sql('coalesce(a, 0)'), 'coalesce(toFloat64(alias_of_a), toFloat64(0))');
    assert.equal(sql('max(a, b, 1)'), 'greatest(toFloat64(alias_of_a), toFloat64(alias_of_b), toFloat64(1))');
    assert.equal(sql('abs(a - b)'), 'abs((toFloat64(alias_of_a) - toFloat64(alias_of_b)))');
  });

  it('lists the series a formula names, once each, in order', () => {
    assert.deepEqual(seriesNames(parseFormula('(b + a) / b * min(c, a)')), ['b', 'a', 'c']);
  });

  it('refuses everything outside its grammar', () => {
    for (const bad of ['a % b', 'a ** 2', 'a.b', 'a[1]', 'a ? b : c', '"x"', 'true', 'f(a)', 'abs()', 'round(a, b)', 'a && b', 'a, b', '', 'x'.repeat(501)]) {
      assert.throws(() => parseFormula(bad), FormulaError, bad);
    }
  });
});
