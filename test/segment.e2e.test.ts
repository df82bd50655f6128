import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Analytics } from '@segment/analytics-node';
import { IngestPipelineService } from '../src/events/ingest-pipeline.service.js';
import { EVENTS_STORE, type EventsStore } from '../src/infrastructure/clickhouse/events-store.port.js';
import { eventIdOf } from '../src/sources/segment/segment-message.decoder.js';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';

interface Row {
  event_id: string;
  event_type: string;
  event_name: string;
  user_id: string;
  anonymous_id: string;
  session_id: string;
  properties: string;
  timestamp: string;
  ip: string;
  user_agent: string;
  browser: string;
  locale: string;
  origin: string;
  path: string;
  title: string;
  referrer_name: string;
  referrer_type: string;
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  is_bot: number;
}

const MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';
const basic = (secret: string) => `Basic ${Buffer.from(`${secret}:`).toString('base64')}`;

describe('Segment HTTP Tracking API', () => {
  let t: TestApp;
  let store: EventsStore;

  /** Every stored event of an account, after the log's flush. */
  async function stored(accountId: string): Promise<Row[]> {
    await t.app.get(IngestPipelineService).flush();
    return store.query<Row>(
      `SELECT toString(event_id) AS event_id, event_type, event_name, user_id, anonymous_id, session_id, properties,
         toString(timestamp) AS timestamp, ip, user_agent, browser, locale, origin, path, title, referrer_name, referrer_type,
         utm_source, utm_medium, utm_campaign, is_bot
       FROM events WHERE account_id = {a:String} ORDER BY timestamp, event_name`,
      { a: accountId },
    );
  }
  const post = (path: string, body: unknown, secret?: string, headers: Record<string, string> = {}) =>
    call(t.url, 'POST', path, { body, headers: { ...(secret ? { authorization: basic(secret) } : {}), ...headers } });
  const raw = (path: string, text: string, secret: string) => call(t.url, 'POST', path, { raw: text, headers: { authorization: basic(secret) } });

  before(async () => {
    t = await startApp();
    store = t.app.get(EVENTS_STORE);
  });
  after(async () => t?.close());

  it('takes track, identify, page, group and alias from @segment/analytics-node and merges the profile', async () => {
    const account = await createAccount(t.url, 'sdk');
    const analytics = new Analytics({ writeKey: account.write, host: t.url, path: '/v1/batch', flushAt: 50, maxRetries: 0 });
    const failures: unknown[] = [];
    analytics.on('error', (err) => failures.push(err));
    // The page first: a session's referrer and campaign are its first event's.
    analytics.page({
      anonymousId: 'anon-1',
      timestamp: new Date(Date.now() - 1000),
      name: 'Pricing',
      properties: { url: 'https://shop.example.com/pricing', referrer: 'https://www.google.com/search?q=shop', title: 'Pricing' },
      context: { userAgent: MAC, ip: '81.2.69.142', campaign: { name: 'spring', source: 'newsletter', medium: 'email' } },
    });
    analytics.track({ anonymousId: 'anon-1', event: 'Viewed Pricing', properties: { plan: 'pro' } });
    analytics.identify({ userId: 'user-1', anonymousId: 'anon-1', traits: { first_name: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', plan: 'pro' } });
    analytics.track({ userId: 'user-1', event: 'Order Completed', properties: { total: 30 } });
    analytics.group({ userId: 'user-1', groupId: 'org-7', traits: { name: 'Initech', employees: 40 } });
    analytics.alias({ userId: 'user-1', previousId: 'old-login' });
    await analytics.closeAndFlush({ timeout: 10_000 });
    assert.deepEqual(failures, []);

    const rows = await stored(account.accountId);
    assert.deepEqual(
      rows.map((r) => [r.event_type, r.event_name, r.user_id, r.anonymous_id]).sort(),
      [
        ['alias', 'alias', 'user-1', ''],
        ['alias', 'alias', 'user-1', 'anon-1'],
        ['group', 'group', 'user-1', ''],
        ['identify', 'identify', 'user-1', ''],
        ['identify', 'identify', 'user-1', 'anon-1'],
        ['track', 'Order Completed', 'user-1', ''],
        ['track', 'Viewed Pricing', '', 'anon-1'],
        ['track', 'page_view', '', 'anon-1'],
      ],
    );
    const track = rows.find((r) => r.event_name === 'Viewed Pricing')!;
    const props = JSON.parse(track.properties);
    assert.equal(props.plan, 'pro');
    assert.equal(props.context.library.name, '@segment/analytics-node', 'the rest of context is kept');
    assert.equal(track.event_id, eventIdOf(props.messageId), 'the event id comes from the messageId');
    // The SDK's own user agent is a server's, not a bot's; the page's is the browser's it names.
    assert.equal(track.is_bot, 0);
    const page = rows.find((r) => r.event_name === 'page_view')!;
    assert.deepEqual(
      [page.origin, page.path, page.title, page.referrer_name, page.referrer_type, page.utm_source, page.utm_medium, page.utm_campaign],
      ['https://shop.example.com', '/pricing', 'Pricing', 'Google', 'search', 'newsletter', 'email', 'spring'],
    );
    assert.deepEqual([page.user_agent, page.browser, page.ip, page.is_bot], [MAC, 'Safari', '81.2.69.142', 0]);
    assert.notEqual(page.session_id, '', 'the device (anonymousId) gets a session');
    assert.deepEqual(JSON.parse(rows.find((r) => r.event_type === 'group')!.properties).groupId, 'org-7');

    const profile = await call(t.url, 'GET', '/api/profiles/user-1', { secret: account.read });
    assert.equal(profile.status, 200, JSON.stringify(profile.body));
    assert.deepEqual([profile.body.firstName, profile.body.lastName, profile.body.email], ['Ada', 'Lovelace', 'ada@example.com']);
    assert.deepEqual(profile.body.properties, { plan: 'pro', groupId: 'org-7', group: { name: 'Initech', employees: 40 } });
    assert.deepEqual(profile.body.ids, ['anon-1', 'old-login', 'user-1']);
    assert.ok(profile.body.events.some((e: { eventName: string }) => e.eventName === 'Order Completed'));
    // The anonymous id reaches the same profile.
    const byAnonymous = await call(t.url, 'GET', '/api/profiles/anon-1', { secret: account.read });
    assert.equal(byAnonymous.status, 200, JSON.stringify(byAnonymous.body));
    assert.deepEqual(byAnonymous.body.ids, profile.body.ids);
    assert.equal(byAnonymous.body.email, 'ada@example.com');

    // The page call counts in the insights: its page, referrer and campaign.
    const get = (path: string) => call(t.url, 'GET', `/insights/${account.accountId}/${path}`, { secret: account.read });
    const pages = await get('pages?range=today');
    assert.equal(pages.status, 200, JSON.stringify(pages.body));
    assert.deepEqual(pages.body.map((p: { path: string; origin: string }) => [p.path, p.origin]), [['/pricing', 'https://shop.example.com']]);
    const utm = await get('utm?range=today');
    assert.deepEqual(utm.body.map((r: { name: string; sessions: number }) => [r.name, r.sessions]), [['newsletter', 1]]);
    const campaigns = await get('utm?range=today&param=campaign');
    assert.deepEqual(campaigns.body.map((r: { name: string }) => r.name), ['spring']);
    const referrers = await get('referrers?range=today');
    assert.deepEqual(referrers.body.map((r: { name: string; type: string }) => [r.name, r.type]), [['Google', 'search']]);
  });

  describe('over raw HTTP', () => {
    let acme: Credentials;
    before(async () => {
      acme = await createAccount(t.url, 'acme');
    });
    const names = async (accountId: string) => (await stored(accountId)).map((r) => r.event_name);

    it('authenticates with Basic credentials or a body writeKey; a wrong key is 401, a read client 403', async () => {
      const account = await createAccount(t.url, 'auth');
      const a = await post('/v1/track', { userId: 'u', event: 'basic' }, account.write);
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.deepEqual(a.body, { success: true });
      const b = await post('/v1/track', { userId: 'u', event: 'body-key', writeKey: account.write });
      assert.equal(b.status, 200, JSON.stringify(b.body));
      const c = await post('/v1/batch', { writeKey: account.write, batch: [{ type: 'track', userId: 'u', event: 'batch-body-key' }] });
      assert.equal(c.status, 200, JSON.stringify(c.body));

      const wrongBasic = await post('/v1/track', { userId: 'u', event: 'wrong' }, 'sk_wrong');
      assert.equal(wrongBasic.status, 401);
      assert.equal(wrongBasic.body.error.code, 'unauthorized');
      assert.equal((await post('/v1/track', { userId: 'u', event: 'wrong', writeKey: 'sk_wrong' })).status, 401);
      assert.equal((await post('/v1/batch', { batch: [{ type: 'track', userId: 'u', event: 'wrong' }] })).status, 401, 'no key at all');
      const wrongHeader = await post('/v1/track', { userId: 'u', event: 'wrong', writeKey: account.write }, 'sk_wrong');
      assert.equal(wrongHeader.status, 401, 'wrong header credentials are not rescued by the body');
      const malformed = await post('/v1/track', { userId: 'u', event: 'wrong' }, undefined, { authorization: 'Basic !!!' });
      assert.equal(malformed.status, 401);
      assert.match(malformed.body.error.message, /Basic/);
      const read = await post('/v1/track', { userId: 'u', event: 'wrong' }, account.read);
      assert.equal(read.status, 403, JSON.stringify(read.body));
      assert.equal((await post('/v1/track', { userId: 'u', event: 'wrong', writeKey: account.read })).status, 403);
      // The body's writeKey counts on Segment's routes only.
      const events = await post('/api/events', { eventType: 'track', eventName: 'wrong', writeKey: account.write });
      assert.equal(events.status, 401, JSON.stringify(events.body));

      assert.deepEqual((await names(account.accountId)).sort(), ['basic', 'batch-body-key', 'body-key']);
    });

    it('answers 400 to invalid JSON and to bodies over the limits, in the service’s error shape', async () => {
      const account = await createAccount(t.url, 'limits');
      const garbage = await raw('/v1/track', '{"userId": "u", "event": ', account.write);
      assert.equal(garbage.status, 400);
      assert.equal(typeof garbage.body.error.message, 'string');

      const big = { userId: 'u', event: 'big', properties: { blob: 'x'.repeat(33 * 1024) } };
      const tooBig = await post('/v1/track', big, account.write);
      assert.equal(tooBig.status, 400, JSON.stringify(tooBig.body));
      assert.equal(tooBig.body.error.details[0].field, 'body');
      assert.match(tooBig.body.error.message, /32768/);

      const many = Array.from({ length: 2501 }, (_, i) => ({ type: 'track', userId: 'u', event: 'many', messageId: `m${i}` }));
      const tooMany = await post('/v1/batch', { batch: many }, account.write);
      assert.equal(tooMany.status, 400, JSON.stringify(tooMany.body).slice(0, 500));
      assert.deepEqual(tooMany.body.error.details, [{ field: 'batch', message: 'has 2501 messages; at most 2500 are allowed' }]);

      const heavy = Array.from({ length: 20 }, () => ({ type: 'track', userId: 'u', event: 'heavy', properties: { blob: 'y'.repeat(25 * 1024) } }));
      const tooHeavy = await post('/v1/batch', { batch: heavy }, account.write);
      assert.ok(JSON.stringify({ batch: heavy }).length > 501 * 1024);
      assert.equal(tooHeavy.status, 400, JSON.stringify(tooHeavy.body));
      assert.match(tooHeavy.body.error.message, /512000/);

      // Other routes keep their 413.
      const other = await call(t.url, 'POST', '/api/events', { secret: account.write, raw: `{"x":"${'z'.repeat(6 * 1024 * 1024)}"}` });
      assert.equal(other.status, 413);

      assert.deepEqual(await names(account.accountId), []);
    });

    it('answers a single call with a bad message 400 naming the field, storing nothing', async () => {
      const account = await createAccount(t.url, 'single');
      const noEvent = await post('/v1/track', { userId: 'u', properties: {} }, account.write);
      assert.equal(noEvent.status, 400);
      assert.deepEqual(noEvent.body.error.details.map((d: { field: string }) => d.field), ['event']);
      const noIds = await post('/v1/page', { name: 'Home' }, account.write);
      assert.equal(noIds.status, 400);
      assert.deepEqual(noIds.body.error.details.map((d: { field: string }) => d.field), ['userId']);
      const alias = await post('/v1/alias', { userId: 'u' }, account.write);
      assert.deepEqual(alias.body.error.details.map((d: { field: string }) => d.field), ['previousId']);
      const group = await post('/v1/group', { userId: 'u' }, account.write);
      assert.deepEqual(group.body.error.details.map((d: { field: string }) => d.field), ['groupId']);
      // A check of the ingest service, named in the message's fields.
      const future = await post('/v1/track', { userId: 'u', event: 'x', timestamp: '2999-01-01T00:00:00Z' }, account.write);
      assert.equal(future.status, 400);
      assert.deepEqual(future.body.error.details.map((d: { field: string }) => d.field), ['timestamp']);
      assert.deepEqual(await names(account.accountId), []);
    });

    it('keeps the good messages of a batch and lists exactly the rejected ones', async () => {
      const account = await createAccount(t.url, 'batch');
      const batch = [
        { type: 'track', userId: 'u', event: 'good-0', messageId: 'g0' },
        { type: 'track', userId: 'u', messageId: 'bad-1' },
        { type: 'identify', userId: 'u', traits: { email: 'u@x.io' }, messageId: 'g2' },
        { type: 'fly', userId: 'u', messageId: 'bad-3' },
        { type: 'page', name: 'Home', messageId: 'bad-4' },
        { type: 'track', userId: 'u', event: 'good-5', timestamp: 'not a date' },
        { type: 'track', userId: 'u', event: 'big', properties: { blob: 'x'.repeat(33 * 1024) } },
        { type: 'screen', anonymousId: 'a', name: 'Home', messageId: 'g7' },
      ];
      const res = await post('/v1/batch', { batch, context: { library: { name: 'rudder' } } }, account.write);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.success, true);
      assert.deepEqual(
        res.body.rejected.map((r: { index: number; messageId?: string; errors: { field: string }[] }) => [r.index, r.messageId, r.errors.map((e) => e.field)]),
        [
          [1, 'bad-1', ['batch[1].event']],
          [3, 'bad-3', ['batch[3].type']],
          [4, 'bad-4', ['batch[4].userId']],
          [5, undefined, ['batch[5].timestamp']],
          [6, undefined, ['batch[6]']],
        ],
      );
      const rows = await stored(account.accountId);
      assert.deepEqual(rows.map((r) => r.event_name).sort(), ['good-0', 'identify', 'screen_view']);
      for (const r of rows) assert.equal(JSON.parse(r.properties).context.library.name, 'rudder', 'the batch context reaches every message');
      const clean = await post('/v1/batch', { batch: [{ type: 'track', userId: 'u', event: 'clean' }] }, account.write);
      assert.deepEqual(clean.body, { success: true });
    });

    it('stores a message sent twice once (messageId)', async () => {
      const account = await createAccount(t.url, 'dedup');
      const message = { userId: 'u', event: 'retried', messageId: 'retry-me-1' };
      assert.equal((await post('/v1/track', message, account.write)).status, 200);
      assert.equal((await post('/v1/track', message, account.write)).status, 200);
      assert.equal((await post('/v1/batch', { batch: [{ ...message, type: 'track' }] }, account.write)).status, 200);
      const rows = await stored(account.accountId);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.event_id, eventIdOf('retry-me-1'));
      // Without a messageId every call is an event of its own.
      await post('/v1/track', { userId: 'u', event: 'no-id' }, account.write);
      await post('/v1/track', { userId: 'u', event: 'no-id' }, account.write);
      assert.equal((await names(account.accountId)).filter((n) => n === 'no-id').length, 2);
    });

    it('corrects the sender’s clock skew', async () => {
      const account = await createAccount(t.url, 'skew');
      // The device's clock runs an hour ahead; the event happened a minute before it was sent.
      const hourAhead = Date.now() + 3_600_000;
      const before = Date.now();
      const res = await post(
        '/v1/track',
        { userId: 'u', event: 'skewed', originalTimestamp: new Date(hourAhead - 60_000).toISOString(), sentAt: new Date(hourAhead).toISOString() },
        account.write,
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const batchRes = await post(
        '/v1/batch',
        { sentAt: new Date(hourAhead).toISOString(), batch: [{ type: 'track', userId: 'u', event: 'skewed-batch', originalTimestamp: new Date(hourAhead - 120_000).toISOString() }] },
        account.write,
      );
      assert.equal(batchRes.status, 200, JSON.stringify(batchRes.body));
      const after = Date.now();
      const rows = await stored(account.accountId);
      const at = (name: string) => Date.parse(`${rows.find((r) => r.event_name === name)!.timestamp.replace(' ', 'T')}Z`);
      assert.ok(at('skewed') >= before - 60_000 - 5 && at('skewed') <= after - 60_000 + 5, `${new Date(at('skewed')).toISOString()}`);
      assert.ok(at('skewed-batch') >= before - 120_000 - 5 && at('skewed-batch') <= after - 120_000 + 5);
    });

    it('accepts the short routes and a screen call from a mobile SDK', async () => {
      const res = await post('/v1/s', { anonymousId: 'phone-1', name: 'Home', context: { app: { name: 'Shop', version: '2.1' }, os: { name: 'iOS' } } }, acme.write);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const row = (await stored(acme.accountId)).find((r) => r.event_name === 'screen_view')!;
      assert.deepEqual(JSON.parse(row.properties), { name: 'Home', context: { app: { name: 'Shop', version: '2.1' }, os: { name: 'iOS' } } });
    });
  });
});
