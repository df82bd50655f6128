import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OpenPanel } from '@openpanel/sdk';
import { IngestPipelineService } from '../src/events/ingest-pipeline.service.js';
import { EVENTS_STORE, type EventsStore } from '../src/infrastructure/clickhouse/events-store.port.js';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';

interface Row {
  path: string;
  title: string;
  referrer_name: string;
  referrer_type: string;
  utm_source: string;
  country: string;
  is_bot: number;
  event_type: string;
  event_name: string;
  user_id: string;
  anonymous_id: string;
  session_id: string;
  properties: string;
  ip: string;
}

describe('Event Lens / OpenPanel track API', () => {
  let t: TestApp;
  let acme: Credentials;
  let store: EventsStore;

  const openpanelHeaders = (c: Credentials, secret = c.write) => ({
    'openpanel-client-id': c.clients.write.clientId,
    'openpanel-client-secret': secret,
  });
  const track = (body: unknown, headers: Record<string, string>, path = '/track') => call(t.url, 'POST', path, { body, headers });

  async function stored(accountId: string): Promise<Row[]> {
    await t.app.get(IngestPipelineService).flush();
    return store.query<Row>(
      `SELECT event_type, event_name, user_id, anonymous_id, session_id, properties, ip, path, title, referrer_name,
         referrer_type, utm_source, country, is_bot FROM events
       WHERE account_id = {a:String} ORDER BY timestamp, event_name`,
      { a: accountId },
    );
  }

  before(async () => {
    t = await startApp();
    acme = await createAccount(t.url, 'acme');
    store = t.app.get(EVENTS_STORE);
  });
  after(async () => t?.close());

  it('takes track, identify and increment from the OpenPanel SDK', async () => {
    const account = await createAccount(t.url, 'sdk');
    const op = new OpenPanel({ clientId: account.clients.write.clientId, clientSecret: account.write, apiUrl: t.url });
    const answer = await op.track('page_view', { path: '/pricing', title: 'Pricing' });
    assert.match(String((answer as { deviceId?: string })?.deviceId), /^[0-9a-f]{32}$/, 'a cookieless device id');
    await op.identify({ profileId: 'user-1', firstName: 'Ada', email: 'ada@example.com', properties: { plan: 'pro' } });
    await op.track('signup', { plan: 'pro' });
    await op.increment({ profileId: 'user-1', property: 'stats.visits', value: 2 });

    const rows = await stored(account.accountId);
    assert.deepEqual(
      rows.map((r) => [r.event_type, r.event_name, r.user_id]).sort(),
      [
        ['identify', 'identify', 'user-1'],
        ['increment', 'increment', 'user-1'],
        ['track', 'page_view', ''],
        ['track', 'signup', 'user-1'],
      ],
    );
    const view = rows.find((r) => r.event_name === 'page_view')!;
    assert.equal(view.anonymous_id, (answer as { deviceId: string }).deviceId);
    assert.deepEqual(JSON.parse(view.properties), { path: '/pricing', title: 'Pricing' });
    assert.equal(view.is_bot, 0);
    const identify = rows.find((r) => r.event_type === 'identify')!;
    assert.deepEqual(JSON.parse(identify.properties), { profile: { firstName: 'Ada', email: 'ada@example.com' }, properties: { plan: 'pro' } });
    const increment = rows.find((r) => r.event_type === 'increment')!;
    assert.deepEqual(JSON.parse(increment.properties), { property: 'stats.visits', value: 2 });

    // Read back: the profile, and the insights of the day (one session of the SDK's device).
    const profile = await call(t.url, 'GET', '/api/profiles/user-1', { secret: account.read });
    assert.equal(profile.status, 200, JSON.stringify(profile.body));
    assert.equal(profile.body.firstName, 'Ada');
    assert.deepEqual(profile.body.properties, { plan: 'pro', stats: { visits: 2 } });
    assert.deepEqual(profile.body.events.map((e: { eventName: string }) => e.eventName).sort(), ['identify', 'increment', 'signup']);
    const insights = await call(t.url, 'GET', `/insights/${account.accountId}/metrics?range=today`, { secret: account.read });
    assert.equal(insights.status, 200, JSON.stringify(insights.body));
    assert.deepEqual(
      [insights.body.metrics.total_sessions, insights.body.metrics.unique_visitors, insights.body.metrics.total_screen_views, insights.body.metrics.bounce_rate],
      [1, 1, 1, 0],
    );
  });

  it('builds profiles from identify, increment, decrement and alias events', async () => {
    const headers = openpanelHeaders(acme);
    const send = async (type: string, payload: Record<string, unknown>) => {
      const res = await track({ type, payload }, headers);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    await send('identify', { profileId: 'p-1', firstName: 'Grace', email: 'grace@navy.mil', properties: { rank: 'captain', ships: 1 } });
    await send('increment', { profileId: 'p-1', property: 'stats.logins' });
    await send('increment', { profileId: 'p-1', property: 'stats.logins', value: 4 });
    await send('decrement', { profileId: 'p-1', property: 'credits', value: 3 });
    await send('identify', { profileId: 'p-1', lastName: 'Hopper', properties: { rank: 'admiral' } });
    await send('alias', { profileId: 'p-1', alias: 'grace@old-login' });
    await send('track', { name: 'login', profileId: 'grace@old-login' });
    await send('identify', { profileId: 'p-2', firstName: 'Alan' });
    await t.app.get(IngestPipelineService).flush();

    const byId = await call(t.url, 'GET', '/api/profiles/p-1', { secret: acme.read });
    assert.equal(byId.status, 200, JSON.stringify(byId.body));
    assert.equal(byId.body.firstName, 'Grace');
    assert.equal(byId.body.lastName, 'Hopper');
    assert.deepEqual(byId.body.properties, { rank: 'admiral', ships: 1, stats: { logins: 5 }, credits: -3 });
    assert.deepEqual(byId.body.ids, ['grace@old-login', 'p-1']);
    assert.ok(byId.body.events.some((e: { eventName: string }) => e.eventName === 'login'), 'the alias’s events are the profile’s');
    const byAlias = await call(t.url, 'GET', `/api/profiles/${encodeURIComponent('grace@old-login')}`, { secret: acme.read });
    assert.deepEqual(byAlias.body.properties, byId.body.properties);

    const found = await call(t.url, 'GET', '/api/profiles?search=HOPPER', { secret: acme.read });
    assert.deepEqual(found.body.profiles.map((p: { id: string }) => p.id), ['p-1']);
    const all = await call(t.url, 'GET', '/api/profiles?limit=1', { secret: acme.read });
    assert.equal(all.body.total, 2);
    assert.equal(all.body.profiles.length, 1);

    assert.equal((await call(t.url, 'GET', '/api/profiles/nobody', { secret: acme.read })).status, 404);
    const other = await createAccount(t.url, 'other-profiles');
    assert.equal((await call(t.url, 'GET', '/api/profiles/p-1', { secret: other.read })).status, 404);
    assert.equal((await call(t.url, 'GET', '/api/profiles?limit=0', { secret: acme.read })).status, 400);
  });

  it("answers Event Lens's example with its headers", async () => {
    const res = await track(
      {
        type: 'track',
        payload: { name: 'page_view', deviceId: 'device-001', sessionId: 'session-001', path: '/dashboard', properties: { title: 'Dashboard' } },
      },
      { 'event-lens-client-id': acme.clients.write.clientId, 'event-lens-client-secret': acme.write },
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { success: true, deviceId: 'device-001', sessionId: 'session-001' });
    const row = (await stored(acme.accountId)).find((r) => r.anonymous_id === 'device-001')!;
    assert.equal(row.session_id, 'session-001');
    assert.equal(row.path, '/dashboard');
    assert.equal(row.title, 'Dashboard');
    assert.deepEqual(JSON.parse(row.properties), { title: 'Dashboard' });
  });

  it('reads the reserved properties and gives one device the same cookieless id all day', async () => {
    const headers = { ...openpanelHeaders(acme), 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0' };
    const payload = { name: 'reserved', properties: { __timestamp: new Date(Date.now() - 3_600_000).toISOString(), __ip: '203.0.113.9', kept: 1 } };
    const first = await track({ type: 'track', payload }, headers);
    const second = await track({ type: 'track', payload }, headers);
    const otherAgent = await track({ type: 'track', payload }, { ...headers, 'user-agent': 'curl/8.0' });
    assert.equal(first.body.deviceId, second.body.deviceId);
    assert.notEqual(first.body.deviceId, otherAgent.body.deviceId);
    const rows = (await stored(acme.accountId)).filter((r) => r.event_name === 'reserved');
    assert.equal(rows.length, 3);
    assert.equal(rows[0]!.ip, '203.0.113.9');
    assert.deepEqual(JSON.parse(rows[0]!.properties), { kept: 1 });
  });

  it("enriches the web SDK's page, referrer, UTM, place and bot flag", async () => {
    const headers = { ...openpanelHeaders(acme), 'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15' };
    const properties = {
      __path: 'https://shop.example.com/pricing?utm_source=newsletter',
      __referrer: 'https://www.google.com/search?q=shoes',
      __title: 'Pricing',
      __ip: '81.2.69.142',
    };
    assert.equal((await track({ type: 'track', payload: { name: 'screen_view', properties } }, headers)).status, 200);
    const bot = { ...headers, 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' };
    assert.equal((await track({ type: 'track', payload: { name: 'screen_view', properties } }, bot)).status, 200);
    const rows = (await stored(acme.accountId)).filter((r) => r.event_name === 'screen_view');
    assert.deepEqual(
      rows.map((r) => [r.path, r.title, r.referrer_name, r.referrer_type, r.utm_source, r.country, r.is_bot]).sort(),
      [
        ['/pricing', 'Pricing', 'Google', 'search', 'newsletter', 'GB', 0],
        ['/pricing', 'Pricing', 'Google', 'search', 'newsletter', 'GB', 1],
      ],
    );
    assert.deepEqual(JSON.parse(rows[0]!.properties), {}, 'reserved properties are not kept as properties');
    // Search shows what enrichment did, and tells the bot's event apart.
    const found = await call(t.url, 'GET', '/api/events/search?eventName=screen_view', { secret: acme.read });
    assert.equal(found.status, 200, JSON.stringify(found.body));
    assert.deepEqual(
      found.body.events.map((e: any) => [e.isBot, e.context.page, e.context.referrer, e.context.utm, e.context.geo]).sort(),
      [false, true].map((isBot) => [
        isBot,
        { origin: 'https://shop.example.com', path: '/pricing', title: 'Pricing' },
        { url: 'https://www.google.com/search', name: 'Google', type: 'search' },
        { source: 'newsletter', medium: null, campaign: null, term: null, content: null },
        { country: 'GB', region: 'ENG', city: 'Newmarket' },
      ]),
    );
  });

  it('keeps the good envelopes of a batch and reports the bad ones, in both batch forms', async () => {
    const good = { type: 'track', payload: { name: 'batched', deviceId: 'd1' } };
    const res = await track({ events: [good, { type: 'track', payload: {} }, { type: 'nope' }, good] }, openpanelHeaders(acme), '/track/batch');
    assert.equal(res.status, 202);
    assert.equal(res.body.accepted, 2);
    assert.deepEqual(
      res.body.rejected.map((r: { index: number; error: { field: string }[] }) => [r.index, r.error[0]!.field]),
      [
        [1, 'events[1].payload.name'],
        [2, 'events[2].type'],
      ],
    );
    const openpanelForm = await track({ type: 'batch', payload: [good, { type: 'identify', payload: {} }] }, openpanelHeaders(acme));
    assert.equal(openpanelForm.status, 202);
    assert.equal(openpanelForm.body.accepted, 1);
    assert.equal(openpanelForm.body.rejected[0].error[0].field, 'payload[1].payload.profileId');
    assert.equal((await stored(acme.accountId)).filter((r) => r.event_name === 'batched').length, 3);
  });

  it('lets browsers send with a client id alone from an allowed origin, and answers CORS preflights', async () => {
    const account = await createAccount(t.url, 'browser');
    const settings = (body: unknown, secret = account.admin) => call(t.url, 'PUT', `/api/accounts/${account.accountId}/settings`, { secret, body });
    const idOnly = (origin: string | undefined, clientId = account.clients.write.clientId) =>
      call(t.url, 'POST', '/track', {
        body: { type: 'track', payload: { name: 'screen_view' } },
        headers: { 'openpanel-client-id': clientId, ...(origin ? { origin } : {}) },
      });

    const refused = await idOnly('https://shop.example.com');
    assert.equal(refused.status, 401, 'no origin is allowed yet');
    assert.match(refused.body.message, /^origin https:\/\/shop\.example\.com is not allowed for this client id; an admin adds it to allowedOrigins/);
    // The page may read the refusal, so the SDK stops on a 401 instead of retrying a "network error".
    assert.equal(refused.headers.get('access-control-allow-origin'), 'https://shop.example.com');
    const saved = await settings({ allowedOrigins: ['https://shop.example.com', '*.example.org'] });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.deepEqual(saved.body.settings, { allowedOrigins: ['https://shop.example.com', '*.example.org'] });

    const ok = await idOnly('https://shop.example.com');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://shop.example.com');
    assert.equal((await idOnly('https://blog.example.org')).status, 200);
    assert.equal((await idOnly('https://example.org')).status, 401, 'a wildcard covers subdomains only');
    assert.equal((await idOnly('http://shop.example.com')).status, 401, 'the scheme counts when given');
    assert.equal((await idOnly(undefined)).status, 401);
    assert.equal((await idOnly('https://shop.example.com', account.clients.read.clientId)).status, 401, 'only write clients');

    const preflight = await call(t.url, 'OPTIONS', '/track', {
      headers: { origin: 'https://shop.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,openpanel-client-id' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://shop.example.com');
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /openpanel-client-id/);

    const bad = await settings({ allowedOrigins: ['https://ok.example.com', 'https://x.com/path'], theme: 'dark' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error.details.map((d: { field: string }) => d.field).sort(), ['allowedOrigins[1]', 'theme']);
    assert.equal((await settings({ allowedOrigins: [] }, account.read)).status, 403);
    assert.equal((await settings({ allowedOrigins: [] })).status, 200);
    assert.equal((await idOnly('https://shop.example.com')).status, 401, 'a removed origin stops working');
  });

  it("answers errors in OpenPanel's shape, naming the field", async () => {
    const noCredentials = await track({ type: 'track', payload: { name: 'x' } }, {});
    assert.equal(noCredentials.status, 401);
    assert.equal(noCredentials.body.status, 401);
    assert.equal(noCredentials.body.error, 'Unauthorized');
    const wrongSecret = await track({ type: 'track', payload: { name: 'x' } }, openpanelHeaders(acme, 'sk_wrong'));
    assert.equal(wrongSecret.status, 401);
    const readClient = await track(
      { type: 'track', payload: { name: 'x' } },
      { 'openpanel-client-id': acme.clients.read.clientId, 'openpanel-client-secret': acme.read },
    );
    assert.equal(readClient.status, 403);
    const bad = await track({ type: 'track', payload: { name: '', profileId: { id: 1 } } }, openpanelHeaders(acme));
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'Bad Request');
    assert.deepEqual(
      bad.body.details.map((d: { field: string }) => d.field),
      ['payload.name', 'payload.profileId'],
    );
    const tooLate = await track({ type: 'track', payload: { name: 'x', properties: { __timestamp: '2099-01-01T00:00:00Z' } } }, openpanelHeaders(acme));
    assert.equal(tooLate.status, 400);
    assert.equal(tooLate.body.details[0].field, 'payload.properties.__timestamp');
    const typo = await track({ type: 'track', payload: { nmae: 'signup' } }, openpanelHeaders(acme));
    assert.equal(typo.status, 400);
    assert.deepEqual(typo.body.details, [{ field: 'payload.name', message: 'is required (a string); the payload has fields this API does not know: nmae' }]);
    const many = await track({ type: 'batch', payload: Array.from({ length: 2001 }, () => ({ type: 'track', payload: { name: 'x' } })) }, openpanelHeaders(acme));
    assert.equal(many.status, 413);
    assert.equal(many.body.error, 'Payload Too Large');
    assert.deepEqual(many.body.details, [{ field: 'payload', message: 'has 2001 envelopes; at most 2000 are allowed' }]);
  });

  it('keeps payload fields it does not know as properties, never dropping them', async () => {
    const payload = { name: 'unknown_fields', deviceId: 'd-unknown', groups: ['g1'], profileID: 'typo', properties: { plan: 'pro', groups: 'mine' } };
    assert.equal((await track({ type: 'track', payload }, openpanelHeaders(acme))).status, 200);
    const identify = { profileId: 'p-unknown', firstName: 'Ada', company: 'Analytical Engines' };
    assert.equal((await track({ type: 'identify', payload: identify }, openpanelHeaders(acme))).status, 200);
    const rows = await stored(acme.accountId);
    const tracked = rows.find((r) => r.event_name === 'unknown_fields')!;
    // `groups` clashes with a property of that name, which wins; the field goes under __payload.
    assert.deepEqual(JSON.parse(tracked.properties), { plan: 'pro', groups: 'mine', profileID: 'typo', __payload: { groups: ['g1'] } });
    const identified = rows.find((r) => r.event_type === 'identify' && r.user_id === 'p-unknown')!;
    assert.deepEqual(JSON.parse(identified.properties), { profile: { firstName: 'Ada' }, properties: { company: 'Analytical Engines' } });
  });
});
