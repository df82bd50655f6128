import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it as test } from 'node:test';
import { toClickHouseTime } from '../src/infrastructure/clickhouse/clickhouse-time.js';
import { ElasticsearchEventSearch } from '../src/infrastructure/search/elasticsearch.event-search.js';
import { eventually } from './support/app.js';
import { row, toLines } from './support/events-store.contract.js';

// Elasticsearch cannot be installed on the development and CI machines: this suite runs when
// ELASTICSEARCH_NODE points at a live cluster and is reported as skipped otherwise.
const node = process.env.ELASTICSEARCH_NODE;
const skip = node ? false : 'ELASTICSEARCH_NODE is not set (no Elasticsearch here)';
const it = (title: string, fn: () => Promise<void>) => test(title, { skip }, fn);
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

describe('event search on Elasticsearch', () => {
  const open = async () => {
    const search = new ElasticsearchEventSearch({
      node: node!,
      username: process.env.ELASTICSEARCH_USERNAME,
      password: process.env.ELASTICSEARCH_PASSWORD,
      apiKey: process.env.ELASTICSEARCH_API_KEY,
      indexPrefix: `test-${randomUUID().slice(0, 8)}`,
      retentionDays: 90,
      logger: quiet,
    });
    await search.setup();
    return search;
  };

  it('indexes stored rows and finds them by words, filters and keyset pages, within one account', async () => {
    const search = await open();
    const acct = `acct-${randomUUID()}`;
    const base = Date.now() - 60_000;
    const rows = Array.from({ length: 5 }, (_, i) =>
      row(acct, {
        event_name: i % 2 === 0 ? 'signup' : 'login',
        timestamp: toClickHouseTime(base + i * 1000),
        user_id: `u${i}`,
        properties: JSON.stringify({ plan: i % 2 === 0 ? 'pro' : 'free', n: i }),
        search_text: i % 2 === 0 ? 'signup pro' : 'login free',
      }),
    );
    await search.index(toLines([...rows, row('intruder', { search_text: 'signup pro' })]));
    await search.index(toLines(rows)); // again: the event id is the document id, no duplicates
    const pro = await eventually(async () => {
      const page = await search.search({ accountId: acct, terms: ['pro'], limit: 10 });
      assert.equal(page.events.length, 3);
      return page;
    }, 10_000);
    assert.deepEqual(pro.events.map((e) => e.userId), ['u4', 'u2', 'u0']);
    assert.deepEqual(pro.events[0]!.properties, { plan: 'pro', n: 4 });
    const page1 = await search.search({ accountId: acct, terms: [], limit: 2 });
    const page2 = await search.search({ accountId: acct, terms: [], limit: 2, after: page1.last! });
    const page3 = await search.search({ accountId: acct, terms: [], limit: 2, after: page2.last! });
    assert.deepEqual([...page1.events, ...page2.events, ...page3.events].map((e) => e.userId), ['u4', 'u3', 'u2', 'u1', 'u0']);
    assert.equal(page3.last, null);
    const byUser = await search.search({ accountId: acct, terms: [], userId: 'u3', eventName: 'login', limit: 10 });
    assert.deepEqual(byUser.events.map((e) => e.userId), ['u3']);
    await search.close();
  });
});
