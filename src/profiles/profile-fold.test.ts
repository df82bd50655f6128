import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aliasGroups, foldProfile } from './profile-fold.js';

describe('profiles from events', () => {
  it('merges identify (the last write wins per key) and adds increments at dotted paths', () => {
    const profile = foldProfile([
      { type: 'identify', properties: { profile: { firstName: 'Ada', email: 'a@x.io' }, properties: { plan: 'free', seats: 1 } } },
      { type: 'increment', properties: { property: 'stats.visits', value: 2 } },
      { type: 'identify', properties: { profile: { email: 'ada@x.io' }, properties: { plan: 'pro' } } },
      { type: 'increment', properties: { property: 'stats.visits', value: 1 } },
      { type: 'decrement', properties: { property: 'credits', value: 5 } },
      { type: 'increment', properties: { property: 'plan', value: 1 } },
      { type: 'increment', properties: { property: '__proto__.polluted', value: 1 } },
    ]);
    assert.deepEqual(profile, {
      firstName: 'Ada',
      email: 'ada@x.io',
      properties: { plan: 1, seats: 1, stats: { visits: 3 }, credits: -5 },
    });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('links ids through alias chains into one group', () => {
    const groups = aliasGroups([
      ['a', 'b'],
      ['c', 'b'],
      ['y', 'x'],
    ]);
    assert.deepEqual(groups.get('a'), ['a', 'b', 'c']);
    assert.deepEqual(groups.get('c'), ['a', 'b', 'c']);
    assert.deepEqual(groups.get('y'), ['x', 'y']);
    assert.deepEqual(groups.get('x'), ['x', 'y']);
    assert.deepEqual(groups.get('b'), ['a', 'b', 'c']);
    assert.equal(groups.get('z'), undefined);
  });
});
