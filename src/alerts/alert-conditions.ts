import type { Condition, Observation } from './alert.types.js';
import { formatNumber as fmt } from './anomaly.js';

type Judged = Pick<Observation, 'outcome' | 'explanation' | 'bound'>;

const WORDS: Record<Exclude<Condition, 'anomaly'>, string> = {
  greater_than: 'greater than',
  less_than: 'less than',
  equals: 'equal to',
  not_equals: 'not equal to',
  change_pct_up: 'up by at least',
  change_pct_down: 'down by at least',
};

const NOT_WORDS: Record<'greater_than' | 'less_than' | 'equals' | 'not_equals', string> = {
  greater_than: 'not greater than',
  less_than: 'not less than',
  equals: 'not equal to',
  not_equals: 'equal to',
};

/** A threshold condition: the window's value against a fixed bound. */
export function judgeThreshold(condition: 'greater_than' | 'less_than' | 'equals' | 'not_equals', value: number | null, threshold: number): Judged {
  if (value === null) return { outcome: 'no_data', explanation: 'no value was measured in this window' };
  const breach =
    condition === 'greater_than' ? value > threshold : condition === 'less_than' ? value < threshold : condition === 'equals' ? value === threshold : value !== threshold;
  return {
    outcome: breach ? 'breach' : 'clear',
    bound: { threshold },
    explanation: `${fmt(value)} is ${breach ? WORDS[condition] : NOT_WORDS[condition]} ${fmt(threshold)}`,
  };
}

/**
 * A change condition: the window against the one before it, in percent of the earlier value. A
 * rise from 0 has no percentage, and is not judged a breach (one error after none is not "up
 * 100 %"; alert on the value itself for that); no earlier value is no data.
 */
export function judgeChange(condition: 'change_pct_up' | 'change_pct_down', value: number | null, previous: number | null, pct: number): Judged {
  if (value === null || previous === null) {
    return { outcome: 'no_data', explanation: value === null ? 'no value was measured in this window' : 'no value was measured in the window before, to compare with' };
  }
  if (previous === 0) {
    return { outcome: 'clear', bound: { threshold: pct, previous }, explanation: `${fmt(value)} against 0 the window before: a change from 0 has no percentage` };
  }
  // Multiplied first: (129 - 100) / 100 * 100 is 28.999999999999996 in floating point.
  const change = ((value - previous) * 100) / Math.abs(previous);
  const breach = condition === 'change_pct_up' ? change >= pct : -change >= pct;
  const changeText = `${change >= 0 ? '+' : ''}${fmt(change)}%`;
  return {
    outcome: breach ? 'breach' : 'clear',
    bound: { threshold: pct, previous },
    explanation: `${fmt(value)} against ${fmt(previous)} the window before (${changeText}) is ${breach ? '' : 'not '}${WORDS[condition]} ${fmt(pct)}%`,
  };
}
