import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IngestPipelineService } from '../src/events/ingest-pipeline.service.js';
import { EVENTS_STORE, type EventsStore } from '../src/infrastructure/clickhouse/events-store.port.js';
import { FECHATTER_EVENT_NAMES } from '../src/sources/fechatter/fechatter-proto.js';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';
import { encodeBatch, encodeEvent, EVENT_SAMPLES } from './support/fechatter.js';

interface Row {
  event_id: string;
  event_type: string;
  event_name: string;
  user_id: string;
  anonymous_id: string;
  session_id: string;
  properties: string;
  ip: string;
  country: string;
  city: string;
  locale: string;
  user_agent: string;
  is_bot: number;
  ts: string;
}

const MIN = 60_000;

describe('Fechatter analytics over HTTP (protobuf and JSON)', () => {
  let t: TestApp;
  let store: EventsStore;

  before(async () => {
    t = await startApp();
    store = t.app.get(EVENTS_STORE);
  });
  after(async () => t?.close());

  async function stored(accountId: string): Promise<Row[]> {
    await t.app.get(IngestPipelineService).flush();
    return store.query<Row>(
      `SELECT toString(event_id) AS event_id, event_type, event_name, user_id, anonymous_id, session_id, properties, ip, country, city,
         locale, user_agent, is_bot, toString(toUnixTimestamp64Milli(timestamp)) AS ts
       FROM events WHERE account_id = {a:String} ORDER BY timestamp, event_name`,
      { a: accountId },
    );
  }

  const post = (path: string, body: Uint8Array | string, secret: string, contentType?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> =>
    fetch(t.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, ...(contentType ? { 'content-type': contentType } : {}), ...headers },
      body,
    }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }));

  it('stores each of the 16 event types sent as protobuf once, mapped with their types', async () => {
    const acct = await createAccount(t.url, 'fechatter-proto');
    const base = Date.now() - 30 * MIN;
    const contentTypes = ['application/protobuf', 'application/x-protobuf', undefined];
    for (const [i, name] of FECHATTER_EVENT_NAMES.entries()) {
      const context = {
        client_id: 'client-1',
        user_id: '42',
        app_version: '1.4.0',
        client_ts: base + i * 1000,
        user_agent: 'Fechatter/1.4.0 (Macintosh; macOS 14)',
        system: { os: 'macOS', arch: 'arm64', locale: 'en-US', timezone: 'Europe/Paris', browser: '', browser_version: '' },
        geo: { country: 'FR', region: 'IDF', city: 'Paris' },
      };
      const r = await post('/api/event', encodeEvent(name, context), acct.write, contentTypes[i % 3]);
      assert.equal(r.status, 201, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.status, 'success');
      assert.match(r.body.session_id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUIDv7 session');
      assert.ok(Math.abs(r.body.server_ts - Date.now()) < 60_000, 'server_ts is the server clock (ms)');
    }
    // The same event again (a client retry): not stored twice.
    const again = await post('/api/event', encodeEvent('message_sent', { client_id: 'client-1', user_id: '42', client_ts: base + 6000 }), acct.write, 'application/protobuf');
    assert.equal(again.status, 201);

    const rows = await stored(acct.accountId);
    assert.equal(rows.length, 16 + 1, 'the retry differs in its context (no app version): a different event');
    const byName = new Map(rows.filter((r) => JSON.parse(r.properties).app_version).map((r) => [r.event_name, r]));
    assert.deepEqual([...byName.keys()].sort(), [...FECHATTER_EVENT_NAMES].sort());
    for (const [name, sample] of Object.entries(EVENT_SAMPLES)) {
      const row = byName.get(name)!;
      assert.equal(row.event_type, sample.family, name);
      assert.equal(row.anonymous_id, 'client-1');
      assert.equal(row.user_id, '42');
      assert.equal(row.country, 'FR');
      assert.equal(row.city, 'Paris');
      assert.equal(row.locale, 'en-US');
      assert.equal(row.is_bot, 0);
      const props = JSON.parse(row.properties);
      assert.deepEqual(props, { ...sample.properties, app_version: '1.4.0', system: { os: 'macOS', arch: 'arm64', locale: 'en-US', timezone: 'Europe/Paris' } }, name);
    }
    // Types kept: numbers stay numbers, booleans booleans, int64 beyond 2^53 exact as a string.
    const upload = JSON.parse(byName.get('file_uploaded')!.properties);
    assert.equal(upload.file_size, '9007199254740993');
    assert.equal(typeof JSON.parse(byName.get('file_downloaded')!.properties).file_size, 'number');
    assert.equal(JSON.parse(byName.get('bot_response')!.properties).tokens_used, 4000000000);
    assert.equal(Number(byName.get('app_start')!.ts), base, 'the client timestamp is the event time');
    // One client within 10 minutes: one session.
    assert.equal(new Set(rows.map((r) => r.session_id)).size, 1);
  });

  it('takes the JSON twins of all 16 types, and the same event as JSON and protobuf is one event', async () => {
    const acct = await createAccount(t.url, 'fechatter-json');
    const base = Date.now() - 20 * MIN;
    const events = FECHATTER_EVENT_NAMES.map((name, i) => ({
      context: { client_id: 'web-7', user_id: 'u7', client_ts: base + i * 1000 },
      event_type: { [name]: EVENT_SAMPLES[name]!.fields },
    }));
    const one = await call(t.url, 'POST', '/api/event/json', { secret: acct.write, body: events[0] });
    assert.equal(one.status, 201, JSON.stringify(one.body));
    const batch = await call(t.url, 'POST', '/api/batch/json', { secret: acct.write, body: { events: events.slice(1) } });
    assert.equal(batch.status, 201, JSON.stringify(batch.body));
    assert.deepEqual([batch.body.processed, batch.body.failed, batch.body.total], [15, 0, 15]);
    // The message_sent event again, as protobuf: the same bytes, the same event.
    const i = FECHATTER_EVENT_NAMES.indexOf('message_sent');
    const proto = await post('/api/event', encodeEvent('message_sent', { client_id: 'web-7', user_id: 'u7', client_ts: base + i * 1000 }), acct.write);
    assert.equal(proto.status, 201);
    assert.equal(proto.body.message, 'event already recorded');
    const rows = await stored(acct.accountId);
    assert.equal(rows.length, 16);
    for (const row of rows) assert.deepEqual(JSON.parse(row.properties), EVENT_SAMPLES[row.event_name]!.properties, row.event_name);
  });

  it('answers a protobuf batch with processed, failed and total, naming what failed', async () => {
    const acct = await createAccount(t.url, 'fechatter-batch');
    const now = Date.now();
    const good = (i: number) => ({ name: 'message_sent', context: { client_id: `c${i % 3}`, client_ts: now - 1000 + i } });
    // An event with a context but no event type: protobuf lets it through, we cannot record it.
    const events = [good(0), good(1), { name: 'message_sent', context: { client_id: 'c1', client_ts: now, ip: 'not-an-ip' } }, good(3)];
    const bytes = encodeBatch(events);
    const r = await post('/api/batch', bytes, acct.write, 'application/x-protobuf');
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual([r.body.processed, r.body.failed, r.body.total], [3, 1, 4]);
    assert.equal(r.body.failures[0].index, 2);
    assert.equal(r.body.failures[0].errors[0].field, 'events[2].context.ip');
    const empty = await post('/api/batch', new Uint8Array(), acct.write, 'application/protobuf');
    assert.equal(empty.status, 200);
    assert.equal(empty.body.total, 0);
    assert.equal((await stored(acct.accountId)).length, 3);
  });

  it('continues a session within 10 minutes and starts a new one after, per client', async () => {
    const acct = await createAccount(t.url, 'fechatter-sessions');
    const start = Date.now() - 60 * MIN;
    const send = async (client: string, at: number) => {
      const r = await post('/api/event', encodeEvent('navigation', { client_id: client, client_ts: at }), acct.write, 'application/protobuf');
      assert.equal(r.status, 201);
      return r.body.session_id as string;
    };
    const a1 = await send('A', start);
    const a2 = await send('A', start + 9 * MIN);
    const b1 = await send('B', start + 9 * MIN);
    const a3 = await send('A', start + 18 * MIN + 59_000); // 9:59 after the previous one
    const a4 = await send('A', start + 29 * MIN); // 10:01 later
    assert.equal(a1, a2);
    assert.equal(a2, a3);
    assert.notEqual(b1, a1);
    assert.notEqual(a4, a3);
    // A session the client names is kept.
    const named = await post('/api/event', encodeEvent('app_start', { client_id: 'A', session_id: 'client-session-1', client_ts: start + 30 * MIN }), acct.write);
    assert.equal(named.body.session_id, 'client-session-1');
    const sessions = (await stored(acct.accountId)).map((r) => r.session_id);
    assert.deepEqual(sessions, [a1, a1, b1, a1, a4, 'client-session-1']);
  });

  it("takes the client's IP and place from proxy and CDN headers, as Fechatter's server did", async () => {
    const acct = await createAccount(t.url, 'fechatter-headers');
    const r = await post('/api/event', encodeEvent('user_login', { client_id: 'h1', ip: '10.1.1.1' }), acct.write, 'application/protobuf', {
      'x-forwarded-for': '203.0.113.9, 10.0.0.1',
      'cf-ipcountry': 'DE',
      'cf-ipcity': 'Berlin',
    });
    assert.equal(r.status, 201);
    const r2 = await post('/api/event', encodeEvent('user_logout', { client_id: 'h1', ip: '198.51.100.7' }), acct.write, 'application/protobuf', {
      'cf-ipcountry': 'XX',
    });
    assert.equal(r2.status, 201);
    const rows = await stored(acct.accountId);
    const login = rows.find((x) => x.event_name === 'user_login')!;
    assert.deepEqual([login.ip, login.country, login.city], ['203.0.113.9', 'DE', 'Berlin']);
    const logout = rows.find((x) => x.event_name === 'user_logout')!;
    assert.equal(logout.ip, '198.51.100.7', "without proxy headers, the context's IP");
    assert.notEqual(logout.country, 'XX', "Cloudflare's unknown country is no country");
  });

  it('refuses garbage, truncated protobuf, bad JSON fields and wrong credentials with a clear 4xx, storing nothing', async () => {
    const acct = await createAccount(t.url, 'fechatter-bad');
    const good = encodeEvent('message_sent', { client_id: 'x', client_ts: Date.now() });
    const cases: [string, Promise<{ status: number; body: any }>, number, RegExp][] = [
      ['garbage', post('/api/event', new TextEncoder().encode('this is not protobuf at all'), acct.write, 'application/protobuf'), 400, /not a protobuf fechatter\.v1\.AnalyticsEvent/],
      ['truncated', post('/api/event', good.subarray(0, good.length - 4), acct.write, 'application/protobuf'), 400, /truncated/],
      ['no event type', post('/api/event', encodeEventContextOnly(), acct.write, 'application/protobuf'), 400, /event_type: is missing/],
      ['garbage batch', post('/api/batch', new Uint8Array([0x0a, 0xff, 0xff, 0x01]), acct.write), 400, /BatchRecordEventsRequest/],
      ['JSON to the protobuf route', post('/api/event', '{"context":{}}', acct.write, 'application/json'), 415, /JSON goes to the \/json route/],
      ['text to the protobuf route', post('/api/event', 'hello', acct.write, 'text/plain'), 415, /protobuf/],
      ['bad JSON field', post('/api/event/json', JSON.stringify({ event_type: { message_sent: { size: 'big' } } }), acct.write, 'application/json'), 400, /event_type\.message_sent\.size: must be an integer/],
      ['unknown JSON type', post('/api/event/json', JSON.stringify({ event_type: { message_deleted: {} } }), acct.write, 'application/json'), 400, /message_deleted: is not a Fechatter event type/],
      ['invalid JSON', post('/api/batch/json', '{"events": [', acct.write, 'application/json'), 400, /JSON/],
      ['read client', post('/api/event', good, acct.read, 'application/protobuf'), 403, /./],
      ['wrong secret', post('/api/event', good, 'sk_wrong', 'application/protobuf'), 401, /./],
    ];
    for (const [what, request, status, message] of cases) {
      const r = await request;
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
      assert.match(String(r.body?.error?.message ?? r.body?.error), message, `${what}: ${JSON.stringify(r.body)}`);
    }
    // A protobuf content type on another route is still refused.
    const other = await post('/api/events', good, acct.write, 'application/protobuf');
    assert.equal(other.status, 415);
    assert.equal((await stored(acct.accountId)).length, 0);
    // The stream keeps flowing: the next good event is taken.
    assert.equal((await post('/api/event', good, acct.write)).status, 201);
    assert.equal((await stored(acct.accountId)).length, 1);
  });

  it('takes the write secret as HTTP Basic user name, as an endpoint URL with user info sends it', async () => {
    const acct = await createAccount(t.url, 'fechatter-basic');
    const basic = (secret: string) => ({ authorization: `Basic ${Buffer.from(`${secret}:`).toString('base64')}` });
    const bytes = encodeEvent('app_start', { client_id: 'basic-1', client_ts: Date.now() });
    const ok = await fetch(`${t.url}/api/event`, { method: 'POST', headers: basic(acct.write), body: bytes });
    assert.equal(ok.status, 201);
    const wrong = await fetch(`${t.url}/api/event`, { method: 'POST', headers: basic('sk_nope'), body: bytes });
    assert.equal(wrong.status, 401);
    assert.equal((await stored(acct.accountId)).length, 1);
  });

  it('creates the saved metrics that answer Fechatter’s three questions', async () => {
    const acct = await createAccount(t.url, 'fechatter-metrics');
    const day = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) - 86_400_000;
    const events = [
      ...[1, 2, 3].map((u) => ({ name: 'user_login', context: { client_id: `d${u}`, user_id: `u${u}`, client_ts: day + u * MIN } })),
      { name: 'message_sent', context: { client_id: 'd1', user_id: 'u1', client_ts: day + 10 * MIN }, fields: { type: 'text', size: 100 } },
      { name: 'message_sent', context: { client_id: 'd1', user_id: 'u1', client_ts: day + 11 * MIN }, fields: { type: 'text', size: 50 } },
      { name: 'message_sent', context: { client_id: 'd2', user_id: 'u2', client_ts: day + 12 * MIN }, fields: { type: 'image', size: 2000 } },
      { name: 'error_occurred', context: { client_id: 'd3', user_id: 'u3', client_ts: day + 13 * MIN }, fields: { error_type: 'NetworkError' } },
      { name: 'error_occurred', context: { client_id: 'd3', user_id: 'u3', client_ts: day + 14 * MIN }, fields: { error_type: 'NetworkError' } },
    ];
    assert.equal((await post('/api/batch', encodeBatch(events), acct.write, 'application/protobuf')).status, 201);
    const seeded = await call(t.url, 'POST', '/api/sources/fechatter/metrics', { secret: acct.admin });
    assert.equal(seeded.status, 201, JSON.stringify(seeded.body));
    assert.equal(seeded.body.metrics.length, 4);
    const again = await call(t.url, 'POST', '/api/sources/fechatter/metrics', { secret: acct.admin });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.metrics.map((m: { created: boolean }) => m.created), [false, false, false, false]);
    assert.equal((await call(t.url, 'POST', '/api/sources/fechatter/metrics', { secret: acct.write })).status, 403);
    await t.app.get(IngestPipelineService).flush();
    const id = (name: string) => seeded.body.metrics.find((m: { name: string }) => m.name === name).id;
    const range = `from=${new Date(day).toISOString()}&to=${new Date(day + 86_400_000).toISOString()}&interval=day`;
    const data = (name: string, extra = '') => call(t.url, 'GET', `/api/metrics/${id(name)}/data?${range}${extra}`, { secret: acct.read });
    const dau = await data('Fechatter daily active users');
    assert.equal(dau.status, 200, JSON.stringify(dau.body));
    assert.equal(dau.body.totals.value, 3);
    const totals = (r: { body: { series: { group: Record<string, string>; total: number }[] } }, key: string) =>
      Object.fromEntries(r.body.series.map((s) => [s.group[key], s.total]));
    assert.deepEqual(totals(await data('Fechatter messages', '&groupBy=type'), 'type'), { text: 2, image: 1 });
    assert.deepEqual(totals(await data('Fechatter message bytes', '&groupBy=type'), 'type'), { text: 150, image: 2000 });
    assert.deepEqual(totals(await data('Fechatter errors', '&groupBy=error_type'), 'error_type'), { NetworkError: 2 });
  });
});

/** An AnalyticsEvent with a context and no event: valid protobuf, nothing to record. */
function encodeEventContextOnly(): Uint8Array {
  // field 1 (context), length 3: field 1 (client_id) = "x"
  return new Uint8Array([0x0a, 0x03, 0x0a, 0x01, 0x78]);
}
