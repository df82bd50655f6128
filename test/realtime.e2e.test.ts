import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';
import { connectWs } from './support/ws.js';

describe('live events over /ws/analytics (embedded)', () => {
  let t: TestApp;
  let acme: Credentials;
  let globex: Credentials;
  before(async () => {
    t = await startApp();
    acme = await createAccount(t.url, 'acme');
    globex = await createAccount(t.url, 'globex');
  });
  after(async () => t?.close());

  it('streams each second how many events the account received, by name, to its dashboards only', async () => {
    const dashboard = await connectWs(t.url, acme.read);
    const other = await connectWs(t.url, globex.read);
    assert.deepEqual(await dashboard.next('ready'), { accountId: acme.accountId });
    const events = [
      { eventType: 'page', eventName: 'page_view' },
      { eventType: 'page', eventName: 'page_view' },
      { eventType: 'click', eventName: 'signup' },
    ];
    assert.equal((await call(t.url, 'POST', '/api/events/batch', { secret: acme.write, body: { events } })).status, 202);
    const live = await dashboard.next('live.events', 5000);
    assert.equal(live.accountId, acme.accountId);
    assert.equal(live.count, 3);
    assert.deepEqual(live.byName, { page_view: 2, signup: 1 });
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(other.messages.filter((m) => m.event === 'live.events').length, 0, 'another account hears nothing');
    dashboard.close();
    other.close();
  });

  it('closes sockets without valid read credentials', async () => {
    const anonymous = await connectWs(t.url);
    assert.equal((await anonymous.closed).code, 4401);
    const wrong = await connectWs(t.url, 'sk_not_a_key');
    assert.equal((await wrong.closed).code, 4401);
    const writer = await connectWs(t.url, acme.write);
    const closed = await writer.closed;
    assert.equal(closed.code, 4403);
    assert.match(closed.reason, /write clients may only ingest/);
  });
});
