import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DedupWindow } from './dedup-window.js';

describe('DedupWindow', () => {
  it('forgets the oldest key beyond its capacity', () => {
    const w = new DedupWindow(2);
    w.add('a');
    w.add('b');
    w.add('a'); // already there: does not refresh or grow
    w.add('c');
    assert.equal(w.has('a'), false);
    assert.equal(w.has('b'), true);
    assert.equal(w.has('c'), true);
    assert.equal(w.size, 2);
  });

  it('remembers nothing with capacity 0', () => {
    const w = new DedupWindow(0);
    w.add('a');
    assert.equal(w.has('a'), false);
  });
});

describe('DedupWindow beyond its capacity, many times over', () => {
  it('keeps exactly the most recent keys, and a deleted key can be added again', () => {
    const capacity = 1000;
    const w = new DedupWindow(capacity);
    for (let i = 0; i < 10 * capacity; i++) w.add(`k${i}`);
    assert.equal(w.size, capacity);
    assert.equal(w.has(`k${9 * capacity - 1}`), false);
    assert.equal(w.has(`k${9 * capacity}`), true);
    assert.equal(w.has(`k${10 * capacity - 1}`), true);
    w.delete(`k${9 * capacity}`);
    assert.equal(w.has(`k${9 * capacity}`), false);
    w.add(`k${9 * capacity}`);
    assert.equal(w.has(`k${9 * capacity}`), true);
  });
});
