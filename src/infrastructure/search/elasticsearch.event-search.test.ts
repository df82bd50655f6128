import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSearchRequest } from './elasticsearch.event-search.js';

// The query DSL the adapter sends (a pure translation; the adapter itself is exercised against a
// live Elasticsearch in test/search.elasticsearch.test.ts when ELASTICSEARCH_NODE is set).
describe('Elasticsearch search request', () => {
  it('always filters by the account, and pages newest first with search_after', () => {
    const request = buildSearchRequest({
      accountId: 'acct-1',
      terms: ['plan', 'pro'],
      eventName: 'signup',
      userId: 'u1',
      from: Date.parse('2026-01-01T00:00:00Z'),
      to: Date.parse('2026-02-01T00:00:00Z'),
      limit: 50,
      after: { t: 1767225600000, id: 'e-9' },
    });
    assert.deepEqual(request.query, {
      bool: {
        filter: [
          { term: { account_id: 'acct-1' } },
          { term: { event_name: 'signup' } },
          { term: { user_id: 'u1' } },
          { range: { timestamp: { gte: '2026-01-01T00:00:00.000Z', lt: '2026-02-01T00:00:00.000Z' } } },
          { match: { search_text: { query: 'plan pro', operator: 'and' } } },
        ],
      },
    });
    assert.equal(request.size, 51, 'one more than the page, to know whether another follows');
    assert.deepEqual(request.sort, [{ timestamp: { order: 'desc' } }, { event_id: { order: 'desc' } }]);
    assert.deepEqual(request.search_after, [1767225600000, 'e-9']);
  });

  it('asks for nothing but the account when there are no filters', () => {
    const request = buildSearchRequest({ accountId: 'a', terms: [], limit: 10 });
    assert.deepEqual(request.query, { bool: { filter: [{ term: { account_id: 'a' } }] } });
    assert.equal(request.search_after, undefined);
  });
});
