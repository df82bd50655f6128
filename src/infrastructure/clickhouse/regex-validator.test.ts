import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type EventsStore, EventsStoreError, type QueryParams } from './events-store.port.js';
import { invalidRegexMessage, MAX_REGEX_PROBLEMS, re2Reason, RegexValidator } from './regex-validator.js';

/** chDB's message for `(["` (as the embedded engine 25.x words it). */
const CHDB_MESSAGE =
  "Code: 427. DB::Exception: OptimizedRegularExpression: cannot compile re2: ([\", error: missing ]: [\". Look at https://github.com/google/re2/wiki/Syntax for reference. Please note that if you specify regex as an SQL string literal, the slashes have to be additionally escaped. For example, to match an opening brace, write '\\\\(' -- the first slash is for SQL and the second one is for regex: In scope SELECT arrayMap(p -> match('', p), ['([\"']) AS compiled. (CANNOT_COMPILE_REGEXP)";

/** A ClickHouse server's (through @clickhouse/client): no code prefix, a version suffix. */
const SERVER_MESSAGE =
  'OptimizedRegularExpression: cannot compile re2: a{2,1}, error: invalid repetition size: {2,1}. Look at https://github.com/google/re2/wiki/Syntax for reference. (CANNOT_COMPILE_REGEXP) (version 24.8.4.13 (official build))';

describe('regex validator: the engine message reduced to its reason', () => {
  it('keeps only RE2 reason text of chDB and server messages', () => {
    assert.equal(re2Reason(CHDB_MESSAGE), 'missing ]');
    assert.equal(re2Reason(SERVER_MESSAGE), 'invalid repetition size');
    assert.equal(re2Reason('Code: 427. DB::Exception: OptimizedRegularExpression: cannot compile re2: \\p{Foo}, error: invalid character class range: \\p{Foo}. Look at'), 'invalid character class range');
    assert.equal(re2Reason('… cannot compile re2: abc\\, error: trailing \\: . Look at'), 'trailing \\');
    assert.equal(re2Reason('… cannot compile re2: (, error: missing ): (. Look at …'), 'missing )');
  });

  it('gives no reason rather than anything that is not one (query text, stack, a crafted pattern)', () => {
    assert.equal(re2Reason('Code: 427. DB::Exception: something else entirely. (CANNOT_COMPILE_REGEXP)'), null);
    assert.equal(re2Reason('cannot compile re2: x, error: DB::Exception: SELECT secret FROM t: x'), null);
    assert.equal(re2Reason(`cannot compile re2: x, error: ${'word '.repeat(40)}: x`), null);
    // A pattern that imitates the message's form does not make its own text the reason.
    assert.equal(re2Reason('cannot compile re2: (, error: SELECT 1; --, error: missing ): (, error: SELECT 1; --. Look at'), null);
    assert.equal(re2Reason(''), null);
  });

  it('words the client message with or without a reason', () => {
    assert.equal(invalidRegexMessage('missing ]'), 'is not a valid regular expression (RE2 syntax): missing ]');
    assert.equal(invalidRegexMessage(null), 'is not a valid regular expression (RE2 syntax)');
  });
});

/** A store that "compiles" with a fixed list of invalid patterns, in order, like the engine. */
function fakeStore(invalid: Record<string, string>) {
  const queries: string[][] = [];
  const store = {
    kind: 'chdb',
    async query(_sql: string, params: QueryParams = {}) {
      const patterns = params.patterns as string[];
      queries.push(patterns);
      for (const p of patterns) {
        if (p in invalid) {
          throw new EventsStoreError(
            `Code: 427. DB::Exception: OptimizedRegularExpression: cannot compile re2: ${p}, error: ${invalid[p]}: ${p}. Look at https://github.com/google/re2/wiki/Syntax for reference: In scope SELECT arrayMap(p -> match('', p), ['${p}']). (CANNOT_COMPILE_REGEXP)`,
            427,
          );
        }
      }
      return [];
    },
  } as unknown as EventsStore;
  return { store, queries };
}

describe('regex validator: checking patterns with the store', () => {
  it('compiles all patterns of a request in one query, and a known one in none', async () => {
    const { store, queries } = fakeStore({});
    const v = new RegexValidator(store);
    assert.deepEqual(await v.problems([{ field: 'a', pattern: '^x' }, { field: 'b', pattern: 'y$' }, { field: 'c', pattern: '^x' }]), []);
    assert.deepEqual(queries, [['^x', 'y$']]);
    assert.deepEqual(await v.problems([{ field: 'a', pattern: 'y$' }]), []);
    assert.equal(queries.length, 1, 'cached');
    assert.deepEqual(await v.problems([]), []);
    assert.equal(queries.length, 1);
  });

  it('names every invalid pattern with its own reason, and caches the verdicts', async () => {
    const { store, queries } = fakeStore({ '(': 'missing )', '[': 'missing ]', 'a{2,1}': 'invalid repetition size' });
    const v = new RegexValidator(store);
    const candidates = ['ok1', '(', 'ok2', 'ok3', '[', 'ok4', 'ok5', 'a{2,1}', '('].map((pattern, i) => ({ field: `filters[${i}].value`, pattern }));
    const expected = [
      { field: 'filters[1].value', message: 'is not a valid regular expression (RE2 syntax): missing )' },
      { field: 'filters[4].value', message: 'is not a valid regular expression (RE2 syntax): missing ]' },
      { field: 'filters[7].value', message: 'is not a valid regular expression (RE2 syntax): invalid repetition size' },
      { field: 'filters[8].value', message: 'is not a valid regular expression (RE2 syntax): missing )' },
    ];
    assert.deepEqual(await v.problems(candidates), expected);
    const before = queries.length;
    assert.deepEqual(await v.problems(candidates), expected);
    assert.equal(queries.length, before, 'every verdict cached');
  });

  it('finds one invalid pattern among many in a few queries (halving), not one query each', async () => {
    const { store, queries } = fakeStore({ 'p[41': 'missing ]' });
    const v = new RegexValidator(store);
    const candidates = Array.from({ length: 64 }, (_, i) => ({ field: `steps[0].filters[0].value[${i}]`, pattern: i === 41 ? 'p[41' : `p${i}` }));
    assert.deepEqual(await v.problems(candidates), [{ field: 'steps[0].filters[0].value[41]', message: 'is not a valid regular expression (RE2 syntax): missing ]' }]);
    assert.ok(queries.length <= 1 + 2 * 6, `${queries.length} queries`);
  });

  it('stops after MAX_REGEX_PROBLEMS invalid patterns, so a request full of them costs a bounded number of queries', async () => {
    const invalid = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`(${i}`, 'missing )']));
    const { store, queries } = fakeStore(invalid);
    const problems = await new RegexValidator(store).problems(Object.keys(invalid).map((pattern, i) => ({ field: `filters[${i}].value`, pattern })));
    assert.equal(problems.length, MAX_REGEX_PROBLEMS);
    assert.deepEqual(problems.map((p) => p.field), Array.from({ length: MAX_REGEX_PROBLEMS }, (_, i) => `filters[${i}].value`));
    assert.ok(queries.length <= 1 + 2 * 9 * MAX_REGEX_PROBLEMS, `${queries.length} queries`);
  });

  it('lets other store errors through (an unavailable store is not the caller mistake)', async () => {
    const store = {
      async query() {
        throw new EventsStoreError('Code: 159. DB::Exception: Timeout exceeded', 159);
      },
    } as unknown as EventsStore;
    await assert.rejects(new RegexValidator(store).problems([{ field: 'f', pattern: 'x' }]), (err: Error) => err instanceof EventsStoreError);
  });
});
