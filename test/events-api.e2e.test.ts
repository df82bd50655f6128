import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EVENTS_STORE, type EventsStore } from '../src/infrastructure/clickhouse/events-store.port.js';
import { call, createAccount, type Credentials, eventually, ROOT_KEY, startApp, type TestApp } from './support/app.js';

const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

describe('Events API on embedded defaults', () => {
  let t: TestApp;
  let acme: Credentials;
  let globex: Credentials;

  before(async () => {
    t = await startApp();
    acme = await createAccount(t.url, 'acme');
    globex = await createAccount(t.url, 'globex');
  });
  after(async () => {
    await t?.close();
  });

  const search = (secret: string, query: string) => call(t.url, 'GET', `/api/events/search?${query}`, { secret });

  it('answers health and readiness', async () => {
    assert.deepEqual((await call(t.url, 'GET', '/health')).body, { status: 'ok' });
    const ready = await call(t.url, 'GET', '/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.checks.eventsStore.kind, 'chdb');
    assert.equal(ready.body.checks.documents.kind, 'nedb');
  });

  it('ingests the spec example and finds it by full text, with user agent enrichment', async () => {
    const sent = await call(t.url, 'POST', '/api/events', {
      secret: acme.write,
      headers: { 'user-agent': IPHONE_UA },
      body: {
        eventType: 'message',
        eventName: 'message_sent',
        sessionId: 's-1',
        userId: 'user-1',
        properties: { campaignId: '123', groupId: '456', messageType: 'text', charactersCount: 150 },
        context: { locale: 'en-US' },
      },
    });
    assert.equal(sent.status, 202);
    assert.match(sent.body.eventId, /^[0-9a-f-]{36}$/);
    const found = await eventually(async () => {
      const r = await search(acme.read, 'q=TEXT%20message_sent');
      assert.equal(r.body.events.length, 1);
      return r.body.events[0];
    });
    assert.equal(found.eventId, sent.body.eventId);
    assert.deepEqual(found.properties, { campaignId: '123', groupId: '456', messageType: 'text', charactersCount: 150 });
    assert.equal(found.context.browser, 'Mobile Safari');
    assert.equal(found.context.os, 'iOS');
    assert.equal(found.context.deviceType, 'mobile');
    assert.equal(found.context.locale, 'en-US');
    assert.equal(found.context.ip, '127.0.0.1');
    assert.equal(found.sessionId, 's-1');
  });

  it('ignores X-Forwarded-For from an untrusted peer, and takes context.ip from server SDKs', async () => {
    const a = await call(t.url, 'POST', '/api/events', {
      secret: acme.write,
      headers: { 'x-forwarded-for': '203.0.113.9' },
      body: { eventType: 't', eventName: 'xff_untrusted' },
    });
    const b = await call(t.url, 'POST', '/api/events', {
      secret: acme.write,
      body: { eventType: 't', eventName: 'ctx_ip', context: { ip: '198.51.100.7' } },
    });
    assert.equal(a.status, 202);
    assert.equal(b.status, 202);
    await eventually(async () => {
      const r1 = await search(acme.read, 'eventName=xff_untrusted');
      const r2 = await search(acme.read, 'eventName=ctx_ip');
      assert.equal(r1.body.events[0]?.context.ip, '127.0.0.1');
      assert.equal(r2.body.events[0]?.context.ip, '198.51.100.7');
    });
  });

  it('accepts the good events of a batch and reports each bad one by index and field', async () => {
    const res = await call(t.url, 'POST', '/api/events/batch', {
      secret: acme.write,
      body: {
        events: [
          { eventType: 'page', eventName: 'batch_ok', timestamp: new Date().toISOString() },
          { eventType: 'page' },
          { eventType: 'page', eventName: 'batch_ok', props: {} },
          { eventType: 'page', eventName: 'batch_ok', timestamp: Date.now() + 2 * 86_400_000 },
          { eventType: 'page', eventName: 'batch_ok', timestamp: Date.now() - 1000 },
        ],
      },
    });
    assert.equal(res.status, 202);
    assert.equal(res.body.accepted, 2);
    assert.deepEqual(
      res.body.rejected.map((r: { index: number; errors: { field: string }[] }) => [r.index, r.errors[0]!.field]),
      [
        [1, 'events[1].eventName'],
        [2, 'events[2].props'],
        [3, 'events[3].timestamp'],
      ],
    );
    await eventually(async () => assert.equal((await search(acme.read, 'eventName=batch_ok')).body.events.length, 2));
  });

  it('answers 400 naming the field for every kind of bad event', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ eventName: 'x' }, 'eventType', /required/],
      [{ eventType: 'x', eventName: 7 }, 'eventName', /string/],
      [{ eventType: 'x', eventName: 'y'.repeat(201) }, 'eventName', /200/],
      [{ eventType: 'x', eventName: 'y', eventId: 'nope' }, 'eventId', /UUID/],
      [{ eventType: 'x', eventName: 'y', timestamp: 'yesterday' }, 'timestamp', /ISO 8601/],
      [{ eventType: 'x', eventName: 'y', timestamp: '2020-01-01T00:00:00Z' }, 'timestamp', /retention/],
      [{ eventType: 'x', eventName: 'y', properties: [1] }, 'properties', /object/],
      [{ eventType: 'x', eventName: 'y', properties: { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } } }, 'properties.a.b.c.d.e.f', /deeper/],
      [
        { eventType: 'x', eventName: 'y', properties: Object.fromEntries(Array.from({ length: 301 }, (_, i) => [`k${i}`, i])) },
        'properties',
        /keys/,
      ],
      [{ eventType: 'x', eventName: 'y', context: { ip: 'not-an-ip' } }, 'context.ip', /IPv4/],
      [{ eventType: 'x', eventName: 'y', context: { device: 'x' } }, 'context.device', /not a known/],
      [{ eventType: 'x', eventName: 'y', accountId: globex.accountId }, 'accountId', /credentials/],
      [[1, 2], 'body', /object/],
    ];
    for (const [body, field, message] of cases) {
      const res = await call(t.url, 'POST', '/api/events', { secret: acme.write, body });
      assert.equal(res.status, 400, `status for ${field}`);
      assert.equal(res.body.error.code, 'validation_failed');
      const problem = res.body.error.details.find((d: { field: string }) => d.field === field);
      assert.ok(problem, `${field} named in ${JSON.stringify(res.body.error.details)}`);
      assert.match(problem.message, message);
    }
    const badJson = await call(t.url, 'POST', '/api/events', { secret: acme.write, raw: '{"eventType":' });
    assert.equal(badJson.status, 400);
    assert.match(badJson.body.error.message, /^body: /);
    // Epoch seconds are not taken for a date in 1970.
    const seconds = Math.floor(Date.now() / 1000);
    const epoch = await call(t.url, 'POST', '/api/events', { secret: acme.write, body: { eventType: 'x', eventName: 'y', timestamp: seconds } });
    assert.equal(epoch.status, 400);
    assert.deepEqual(epoch.body.error.details, [{ field: 'timestamp', message: `must be epoch milliseconds; ${seconds} looks like epoch seconds (send ${seconds * 1000})` }]);
  });

  it('answers 413 for an event larger than 32 KB, naming the limit', async () => {
    const res = await call(t.url, 'POST', '/api/events', { secret: acme.write, body: { eventType: 'x', eventName: 'y', properties: { blob: 'z'.repeat(33 * 1024) } } });
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, 'payload_too_large');
    assert.equal(res.body.error.details[0].field, 'body');
    assert.match(res.body.error.details[0].message, /at most 32768/);
  });

  it('answers 415 for a body that is not sent as JSON, saying what to send', async () => {
    for (const contentType of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
      const res = await call(t.url, 'POST', '/api/events', {
        secret: acme.write,
        raw: '{"eventType":"x","eventName":"y"}',
        headers: { 'content-type': contentType },
      });
      assert.equal(res.status, 415, contentType);
      assert.equal(res.body.error.code, 'unsupported_media_type');
      assert.deepEqual(res.body.error.details, [{ field: 'content-type', message: `must be application/json (got ${contentType})` }]);
    }
  });

  it('bounds batches: not an array, empty, over 1000 events, over 5 MB, nothing valid', async () => {
    const post = (body: unknown) => call(t.url, 'POST', '/api/events/batch', { secret: acme.write, body });
    assert.equal((await post({ events: 'x' })).body.error.details[0].field, 'events');
    assert.equal((await post({ events: [] })).status, 400);
    const many = await post({ events: Array.from({ length: 1001 }, () => ({ eventType: 'a', eventName: 'b' })) });
    assert.equal(many.status, 413);
    assert.deepEqual(many.body.error.details, [{ field: 'events', message: 'has 1001 events; at most 1000 are allowed' }]);
    const huge = await post({ events: Array.from({ length: 200 }, () => ({ eventType: 'a', eventName: 'b', properties: { p: 'x'.repeat(30_000) } })) });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error.code, 'payload_too_large');
    // Nothing accepted: the one error shape, each problem's path naming its event.
    const none = await post({ events: [{ eventType: 'a' }, { eventName: 'b' }] });
    assert.equal(none.status, 400);
    assert.equal(none.body.error.code, 'validation_failed');
    assert.deepEqual(none.body.error.details, [
      { field: 'events[0].eventName', message: 'is required' },
      { field: 'events[1].eventType', message: 'is required' },
    ]);
    assert.match(none.body.error.message, /^no event in the batch was accepted: events\[0\]\.eventName: is required/);
    const allTooLarge = await post({ events: [{ eventType: 'a', eventName: 'b', properties: { p: 'x'.repeat(33 * 1024) } }] });
    assert.equal(allTooLarge.status, 413);
    assert.equal(allTooLarge.body.error.details[0].field, 'events[0]');
  });

  it('stores a retried batch with the same event ids once', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const body = { events: ids.map((eventId) => ({ eventId, eventType: 'retry', eventName: 'retried_batch' })) };
    const first = await call(t.url, 'POST', '/api/events/batch', { secret: acme.write, body });
    const second = await call(t.url, 'POST', '/api/events/batch', { secret: acme.write, body });
    assert.deepEqual(first.body, { accepted: 3, duplicates: 0, rejected: [] });
    assert.deepEqual(second.body, { accepted: 3, duplicates: 3, rejected: [] });
    const single = await call(t.url, 'POST', '/api/events', {
      secret: acme.write,
      body: { eventId: ids[0], eventType: 'retry', eventName: 'retried_batch' },
    });
    assert.deepEqual(single.body, { eventId: ids[0] });
    // The same id in another account is that account's own event.
    const other = await call(t.url, 'POST', '/api/events', {
      secret: globex.write,
      body: { eventId: ids[0], eventType: 'retry', eventName: 'retried_batch' },
    });
    assert.equal(other.status, 202);
    await t.app.get((await import('../src/events/ingest-pipeline.service.js')).IngestPipelineService).flush();
    const found = await search(acme.read, 'eventName=retried_batch&limit=100');
    assert.deepEqual(found.body.events.map((e: { eventId: string }) => e.eventId).sort(), [...ids].sort());
    assert.equal((await search(globex.read, 'eventName=retried_batch')).body.events.length, 1);
  });

  it('filters and pages search results, newest first', async () => {
    const base = Date.now() - 10 * 60_000;
    const events = Array.from({ length: 7 }, (_, i) => ({
      eventType: i < 4 ? 'click' : 'view',
      eventName: 'paged',
      userId: `pager-${i % 2}`,
      sessionId: `sess-${i}`,
      timestamp: base + i * 1000,
      properties: { plan: i % 3 === 0 ? 'Enterprise' : 'free', nested: { tag: `tag${i}` } },
    }));
    assert.equal((await call(t.url, 'POST', '/api/events/batch', { secret: acme.write, body: { events } })).status, 202);
    await eventually(async () => assert.equal((await search(acme.read, 'eventName=paged&limit=100')).body.events.length, 7));

    const seen: number[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const r = await search(acme.read, `eventName=paged&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(r.status, 200);
      seen.push(...r.body.events.map((e: { timestamp: string }) => Date.parse(e.timestamp)));
      cursor = r.body.nextCursor;
    }
    assert.deepEqual(seen, events.map((e) => e.timestamp).reverse());

    const byText = await search(acme.read, 'eventName=paged&q=enterprise');
    assert.deepEqual(byText.body.events.map((e: { sessionId: string }) => e.sessionId), ['sess-6', 'sess-3', 'sess-0']);
    const nested = await search(acme.read, 'q=tag5');
    assert.deepEqual(nested.body.events.map((e: { sessionId: string }) => e.sessionId), ['sess-5']);
    const typed = await search(acme.read, 'eventName=paged&eventType=view&userId=pager-1');
    assert.deepEqual(typed.body.events.map((e: { sessionId: string }) => e.sessionId), ['sess-5']);
    const bySession = await search(acme.read, 'sessionId=sess-2');
    assert.equal(bySession.body.events.length, 1);
    const windowed = await search(
      acme.read,
      `eventName=paged&from=${new Date(base + 2000).toISOString()}&to=${base + 4000}`,
    );
    assert.deepEqual(windowed.body.events.map((e: { sessionId: string }) => e.sessionId), ['sess-3', 'sess-2']);
  });

  it('rejects bad search parameters with the field named', async () => {
    const cases: [string, string][] = [
      ['limit=0', 'limit'],
      ['limit=5000', 'limit'],
      ['limit=abc', 'limit'],
      ['cursor=garbage', 'cursor'],
      ['from=notadate', 'from'],
      [`from=${Date.now()}&to=${Date.now() - 1000}`, 'from'],
      ['unknown=1', 'unknown'],
    ];
    for (const [query, field] of cases) {
      const r = await search(acme.read, query);
      assert.equal(r.status, 400, query);
      assert.equal(r.body.error.details[0].field, field, query);
    }
    // One message whatever is wrong with a number.
    for (const limit of ['abc', '0', '5000', '2.5', '1e309']) {
      assert.deepEqual((await search(acme.read, `limit=${limit}`)).body.error.details, [{ field: 'limit', message: 'limit must be a whole number from 1 to 1000' }], limit);
    }
  });

  it('keeps tenants apart on every endpoint', async () => {
    const marker = `isolation${Date.now()}`;
    await call(t.url, 'POST', '/api/events', {
      secret: acme.write,
      body: { eventType: 'secret', eventName: marker, properties: { note: marker } },
    });
    await eventually(async () => assert.equal((await search(acme.read, `eventName=${marker}`)).body.events.length, 1));
    // Reading: another account's keys never see the event, by filter or by text.
    for (const secret of [globex.read, globex.admin]) {
      assert.equal((await search(secret, `eventName=${marker}`)).body.events.length, 0);
      assert.equal((await search(secret, `q=${marker}`)).body.events.length, 0);
    }
    // Writing: the account comes from the credentials; naming another account is refused.
    const forged = await call(t.url, 'POST', '/api/events', {
      secret: globex.write,
      body: { eventType: 'x', eventName: marker, accountId: acme.accountId },
    });
    assert.equal(forged.status, 400);
    const forgedBatch = await call(t.url, 'POST', '/api/events/batch', {
      secret: globex.write,
      body: { events: [{ eventType: 'x', eventName: marker, accountId: acme.accountId }] },
    });
    assert.equal(forgedBatch.status, 400);
    assert.equal((await search(acme.read, `eventName=${marker}`)).body.events.length, 1);
    // Managing: globex's admin cannot see or change acme's account or clients.
    assert.equal((await call(t.url, 'GET', `/api/accounts/${acme.accountId}`, { secret: globex.admin })).status, 404);
    assert.equal(
      (await call(t.url, 'POST', `/api/accounts/${acme.accountId}/clients`, { secret: globex.admin, body: { type: 'read' } })).status,
      404,
    );
    assert.equal(
      (await call(t.url, 'DELETE', `/api/accounts/${acme.accountId}/clients/${acme.clients.read.clientId}`, { secret: globex.admin }))
        .status,
      404,
    );
    assert.equal(
      (await call(t.url, 'DELETE', `/api/accounts/${globex.accountId}/clients/${acme.clients.read.clientId}`, { secret: globex.admin }))
        .status,
      404,
      'a client id of another account is not found under your own account either',
    );
    assert.equal((await call(t.url, 'GET', '/api/accounts', { secret: globex.admin })).status, 403);
    assert.equal((await search(acme.read, `eventName=${marker}`)).body.events.length, 1, 'acme still reads its event');
  });

  it('enforces what each client type may do', async () => {
    const ev = { eventType: 'x', eventName: 'perm' };
    assert.equal((await call(t.url, 'POST', '/api/events', { secret: acme.read, body: ev })).status, 403);
    assert.equal((await call(t.url, 'POST', '/api/events', { secret: acme.admin, body: ev })).status, 403);
    assert.equal((await call(t.url, 'POST', '/api/events', { secret: ROOT_KEY, body: ev })).status, 403);
    assert.equal((await search(acme.write, 'q=x')).status, 403);
    assert.equal((await search(acme.admin, 'q=x')).status, 200);
    assert.equal((await call(t.url, 'POST', '/api/accounts', { secret: acme.admin, body: { name: 'x' } })).status, 403);
    assert.equal((await call(t.url, 'POST', '/api/events', { body: ev })).status, 401);
    assert.equal((await call(t.url, 'POST', '/api/events', { secret: 'sk_wrong', body: ev })).status, 401);
    const malformed = await call(t.url, 'POST', '/api/events', { headers: { authorization: 'Basic abc' }, body: ev });
    assert.equal(malformed.status, 401);
    assert.deepEqual(Object.keys(malformed.body), ['error']);
    const pair = await call(t.url, 'POST', '/api/events', {
      headers: { 'x-client-id': acme.clients.write.clientId, 'x-client-secret': acme.write },
      body: ev,
    });
    assert.equal(pair.status, 202);
    const wrongPair = await call(t.url, 'POST', '/api/events', {
      headers: { 'x-client-id': acme.clients.read.clientId, 'x-client-secret': acme.write },
      body: ev,
    });
    assert.equal(wrongPair.status, 401);
  });

  it('manages accounts and clients; a revoked secret stops working at once', async () => {
    const list = await call(t.url, 'GET', '/api/accounts', { secret: ROOT_KEY });
    assert.equal(list.status, 200);
    assert.ok(list.body.accounts.some((a: { id: string }) => a.id === acme.accountId));
    assert.ok(list.body.total >= 2);
    const acmeView = list.body.accounts.find((a: { id: string }) => a.id === acme.accountId);
    assert.equal(acmeView.clients.length, 3);
    assert.ok(!JSON.stringify(list.body).includes(acme.write), 'secrets are never listed');
    const stored = readFileSync(join(t.config.dataDir, 'documents', 'clients.db'), 'utf8');
    assert.ok(!stored.includes(acme.write) && !stored.includes(acme.read), 'secrets are not stored');
    assert.ok(stored.includes(createHash('sha256').update(acme.write).digest('hex')), 'only their hash is');

    const added = await call(t.url, 'POST', `/api/accounts/${acme.accountId}/clients`, { secret: acme.admin, body: { type: 'write' } });
    assert.equal(added.status, 201);
    assert.equal(added.body.type, 'write');
    const ev = { eventType: 'x', eventName: 'revocation' };
    assert.equal((await call(t.url, 'POST', '/api/events', { secret: added.body.clientSecret, body: ev })).status, 202);
    const revoked = await call(t.url, 'DELETE', `/api/accounts/${acme.accountId}/clients/${added.body.clientId}`, {
      secret: acme.admin,
    });
    assert.equal(revoked.status, 204);
    assert.equal((await call(t.url, 'POST', '/api/events', { secret: added.body.clientSecret, body: ev })).status, 401);
    assert.equal(
      (await call(t.url, 'DELETE', `/api/accounts/${acme.accountId}/clients/${added.body.clientId}`, { secret: ROOT_KEY })).status,
      404,
    );

    const badType = await call(t.url, 'POST', `/api/accounts/${acme.accountId}/clients`, { secret: ROOT_KEY, body: { type: 'owner' } });
    assert.equal(badType.status, 400);
    assert.equal(badType.body.error.details[0].field, 'type');
    const badName = await call(t.url, 'POST', '/api/accounts', { secret: ROOT_KEY, body: { name: '' } });
    assert.equal(badName.status, 400);
    assert.equal(badName.body.error.details[0].field, 'name');
    const extra = await call(t.url, 'POST', '/api/accounts', { secret: ROOT_KEY, body: { name: 'x', plan: 'gold' } });
    assert.equal(extra.status, 400);
    assert.equal(extra.body.error.details[0].field, 'plan');
    assert.equal((await call(t.url, 'GET', `/api/accounts/${randomUUID()}`, { secret: ROOT_KEY })).status, 404);
  });

  it('keeps every acknowledged event across a graceful restart', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await call(t.url, 'POST', '/api/events', { secret: acme.write, body: { eventType: 'x', eventName: 'restart' } });
      ids.push(r.body.eventId);
    }
    const dataDir = t.config.dataDir;
    await t.close(); // what SIGTERM does: drain the log into the store, close the stores
    t = await startApp({ DATA_DIR: dataDir, RETENTION_DAYS: '30' });
    const found = await search(acme.read, 'eventName=restart&limit=100');
    assert.deepEqual(found.body.events.map((e: { eventId: string }) => e.eventId).sort(), ids.sort());
    // A changed RETENTION_DAYS becomes the table's TTL at the next start.
    const store = t.app.get<EventsStore>(EVENTS_STORE);
    const [table] = await store.query<{ engine_full: string }>(
      "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'events'",
    );
    assert.match(table!.engine_full, /toIntervalDay\(30\)/);
    const old = await call(t.url, 'POST', '/api/events', {
      secret: acme.write,
      body: { eventType: 'x', eventName: 'old', timestamp: Date.now() - 40 * 86_400_000 },
    });
    assert.equal(old.status, 400, 'an event older than the new retention is refused');
  });
});

describe('behind a trusted proxy', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp({ TRUSTED_PROXIES: '127.0.0.1' });
  });
  after(async () => t?.close());

  it('takes the client address from X-Forwarded-For', async () => {
    const acct = await createAccount(t.url);
    await call(t.url, 'POST', '/api/events', {
      secret: acct.write,
      headers: { 'x-forwarded-for': '203.0.113.9' },
      body: { eventType: 't', eventName: 'proxied' },
    });
    await eventually(async () => {
      const r = await call(t.url, 'GET', '/api/events/search?eventName=proxied', { secret: acct.read });
      assert.equal(r.body.events[0]?.context.ip, '203.0.113.9');
    });
  });
});
