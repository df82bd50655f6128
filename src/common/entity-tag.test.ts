import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptsVersion, parseIfMatch, versionTag } from './entity-tag.js';

describe('entity tags', () => {
  it('tags a version strongly and quoted', () => {
    assert.equal(versionTag(3), '"3"');
  });

  it('parses If-Match: *, tag lists with weak tags and empty elements; refuses malformed values', () => {
    assert.deepEqual(parseIfMatch(' * '), { any: true });
    assert.deepEqual(parseIfMatch('"3"'), { any: false, tags: [{ weak: false, opaque: '3' }] });
    assert.deepEqual(parseIfMatch('W/"1" ,, "2",'), { any: false, tags: [{ weak: true, opaque: '1' }, { weak: false, opaque: '2' }] });
    for (const bad of ['', ',', '3', '"3', '"3" "4"', 'W/3', '*, "3"', '"a"b"']) assert.equal(parseIfMatch(bad), null, bad);
  });

  it('compares strongly: a weak tag never accepts a version', () => {
    assert.ok(acceptsVersion(parseIfMatch('"1", "3"')!, 3));
    assert.ok(!acceptsVersion(parseIfMatch('"1", "3"')!, 2));
    assert.ok(!acceptsVersion(parseIfMatch('W/"3"')!, 3));
    assert.ok(acceptsVersion(parseIfMatch('*')!, 42));
  });
});
