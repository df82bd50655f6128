import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { toClickHouseTime } from '../../src/infrastructure/clickhouse/clickhouse-time.js';
import { EVENTS_MIGRATIONS } from '../../src/infrastructure/clickhouse/schema/migrations/index.js';
import { ROLLUP_TABLE } from '../../src/infrastructure/clickhouse/schema/tables.js';
import type { EventRow } from '../../src/events/event.types.js';
import { type EventsStore, EventsStoreError } from '../../src/infrastructure/clickhouse/events-store.port.js';
import { migrate } from '../../src/infrastructure/clickhouse/migrator.js';
import { EventsStoreEventSearch } from '../../src/infrastructure/search/events-store.event-search.js';

export function row(accountId: string, overrides: Partial<EventRow> = {}): EventRow {
  const now = Date.now();
  return {
    account_id: accountId,
    event_id: randomUUID(),
    event_type: 'message',
    event_name: 'message_sent',
    timestamp: toClickHouseTime(now),
    received_at: toClickHouseTime(now),
    session_id: '',
    user_id: '',
    anonymous_id: '',
    properties: '{}',
    ip: '127.0.0.1',
    user_agent: '',
    locale: '',
    browser: '',
    browser_version: '',
    os: '',
    os_version: '',
    device_type: '',
    search_text: 'message_sent',
    ...overrides,
  };
}

export const toLines = (rows: EventRow[]) => Buffer.from(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));

/**
 * The events store port's one contract, run against every adapter that can run here:
 * chDB in-process, and the ClickHouse server adapter over HTTP.
 */
export function eventsStoreContract(name: string, open: () => Promise<EventsStore>, close: () => Promise<void>) {
  describe(`events store contract: ${name}`, () => {
    let store: EventsStore;
    const account = `acct-${randomUUID()}`;

    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.close();
      await close();
    });

    it('applies the migrations once, and again is a no-op', async () => {
      const first = await migrate(store, EVENTS_MIGRATIONS, { retentionDays: 90 });
      const second = await migrate(store, EVENTS_MIGRATIONS, { retentionDays: 90 });
      assert.deepEqual(first, EVENTS_MIGRATIONS.map((m) => m.version));
      assert.deepEqual(second, []);
      const [t] = await store.query<{ sorting_key: string; engine_full: string }>(
        `SELECT sorting_key, engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'events'`,
      );
      assert.ok(t, 'events table exists');
      assert.match(t.sorting_key, /^account_id, /, 'sort key starts with the account');
      assert.match(t.engine_full, /TTL toDateTime\(timestamp\) \+ toIntervalDay\(90\)/);
      const [rollup] = await store.query<{ engine_full: string }>(
        `SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {name:String}`,
        { name: ROLLUP_TABLE },
      );
      assert.match(rollup?.engine_full ?? '', /TTL minute \+ toIntervalDay\(90\)/);
    });

    it('inserts JSONEachRow and reads it back with bound parameters', async () => {
      const rows = [row(account, { event_name: 'a' }), row(account, { event_name: 'b' }), row('other', { event_name: 'a' })];
      await store.insertJsonEachRow('events', toLines(rows));
      const got = await store.query<{ event_name: string; n: number }>(
        `SELECT event_name, count() AS n FROM events WHERE account_id = {a:String} GROUP BY event_name ORDER BY event_name`,
        { a: account },
      );
      assert.deepEqual(got, [
        { event_name: 'a', n: 1 },
        { event_name: 'b', n: 1 },
      ]);
    });

    it('binds arrays and never pastes parameter text into SQL', async () => {
      const hostile = "x' OR 1=1 --";
      const got = await store.query<{ n: number }>(
        `SELECT count() AS n FROM events WHERE account_id = {a:String} AND event_name IN {names:Array(String)}`,
        { a: hostile, names: ['a', 'b'] },
      );
      assert.deepEqual(got, [{ n: 0 }]);
    });

    it('stores a retried insert with the same dedup token once, in events and in the rollup', async () => {
      const acct = `dedup-${randomUUID()}`;
      const batch = toLines([row(acct), row(acct), row(acct)]);
      const token = randomUUID();
      const counts = async () => {
        const [r] = await store.query<{ raw: number; rolled: number }>(
          `SELECT (SELECT count() FROM events WHERE account_id = {a:String}) AS raw,
            (SELECT sum(events) FROM ${ROLLUP_TABLE} WHERE account_id = {a:String}) AS rolled`,
          { a: acct },
        );
        return [Number(r?.raw), Number(r?.rolled)];
      };
      await store.insertJsonEachRow('events', batch, { dedupToken: token });
      await store.insertJsonEachRow('events', batch, { dedupToken: token });
      assert.deepEqual(await counts(), [3, 3]);
      await store.insertJsonEachRow('events', batch, { dedupToken: randomUUID() });
      assert.deepEqual(await counts(), [6, 6], 'a different token is a different insert');
    });

    it('reports a bad statement as EventsStoreError with the ClickHouse code', async () => {
      await assert.rejects(store.query('SELECT no_such_column FROM events'), (err: unknown) => {
        assert.ok(err instanceof EventsStoreError);
        assert.equal(err.clickhouseCode, 47);
        return true;
      });
      await assert.rejects(store.insertJsonEachRow('events', Buffer.from('{"account_id": \n')), EventsStoreError);
    });

    it('searches by words, filters and keyset pages, newest first, within one account', async () => {
      const acct = `search-${randomUUID()}`;
      const base = Date.now() - 60_000;
      const rows = Array.from({ length: 5 }, (_, i) =>
        row(acct, {
          event_name: i % 2 === 0 ? 'signup' : 'login',
          timestamp: toClickHouseTime(base + i * 1000),
          user_id: `u${i}`,
          search_text: i % 2 === 0 ? 'signup plan pro' : 'login plan free',
        }),
      );
      await store.insertJsonEachRow('events', toLines([...rows, row('intruder', { search_text: 'signup plan pro' })]));
      const search = new EventsStoreEventSearch(store);
      const pro = await search.search({ accountId: acct, terms: ['plan', 'pro'], limit: 10 });
      assert.deepEqual(
        pro.events.map((e) => e.userId),
        ['u4', 'u2', 'u0'],
      );
      const page1 = await search.search({ accountId: acct, terms: [], limit: 2 });
      assert.equal(page1.events.length, 2);
      assert.ok(page1.last);
      const page2 = await search.search({ accountId: acct, terms: [], limit: 2, after: page1.last! });
      const page3 = await search.search({ accountId: acct, terms: [], limit: 2, after: page2.last! });
      assert.deepEqual(
        [...page1.events, ...page2.events, ...page3.events].map((e) => e.userId),
        ['u4', 'u3', 'u2', 'u1', 'u0'],
      );
      assert.equal(page3.last, null);
      const byUser = await search.search({ accountId: acct, terms: [], userId: 'u3', eventName: 'login', limit: 10 });
      assert.deepEqual(byUser.events.map((e) => e.userId), ['u3']);
      const window = await search.search({ accountId: acct, terms: [], from: base + 1000, to: base + 3000, limit: 10 });
      assert.deepEqual(window.events.map((e) => e.userId), ['u2', 'u1']);
    });

    it('answers ping', async () => {
      assert.equal(await store.ping(), true);
    });
  });
}
