import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toEventRow } from '../../events/event-row.js';
import { validateEvent } from '../../events/event.validator.js';
import { UserAgentParser } from '../../events/user-agent.parser.js';
import { WebContextResolver } from '../../events/web-context.js';
import { buildSearchRequest, eventMappings, toDocument } from './elasticsearch.event-search.js';

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

  it('maps every column the pipeline writes (the mapping is strict: an unknown field fails the bulk item)', () => {
    const now = Date.now();
    const checked = validateEvent(
      {
        eventType: 'track',
        eventName: 'screen_view',
        userId: 'u1',
        properties: { plan: 'pro' },
        context: { page: { url: 'https://shop.example.com/pricing?utm_source=news', referrer: 'https://www.google.com/', title: 'Pricing' } },
      },
      { accountId: 'a', now, retentionDays: 90 },
    );
    assert.ok(checked.ok, JSON.stringify(checked));
    const row = toEventRow('a', checked.event, { ip: '81.2.69.142', userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', receivedAt: now }, new UserAgentParser(), new WebContextResolver());
    const mapped = new Set(Object.keys(eventMappings().properties));
    const columns = Object.keys(toDocument(row));
    assert.ok(columns.includes('utm_source') && columns.includes('is_bot'), columns.join());
    assert.deepEqual(columns.filter((c) => !mapped.has(c)), []);
  });
});
