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
