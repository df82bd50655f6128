import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';

/**
 * Optimistic concurrency a client can use: a metric's answers carry its ETag (`"<version>"`),
 * PUT honours If-Match (412 when stale) and a `version` in the body (409 when stale), and takes
 * back the body of the metric's own GET.
 */
describe('custom metrics: ETag, If-Match and version', () => {
  let t: TestApp;
  let acme: Credentials;

  const definition = {
    name: 'Delivery rate',
    description: 'delivered per sent',
    type: 'gauge',
    unit: 'percentage',
    aggregation: 'avg',
    formula: '(delivered / sent) * 100',
    dimensions: ['campaignId'],
    filters: [{ field: 'groupId', op: 'exists' }],
    series: {
      delivered: { eventName: 'message_delivered', aggregation: 'count', filters: [{ field: 'campaignId', op: 'in', value: ['1', '2'] }] },
      sent: { eventName: 'message_sent', aggregation: 'count' },
    },
  };
  const create = async (body: Record<string, unknown> = definition) => {
    const r = await call(t.url, 'POST', '/api/metrics', { secret: acme.admin, body });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r;
  };
  const get = (id: string) => call(t.url, 'GET', `/api/metrics/${id}`, { secret: acme.read });
  const put = (id: string, body: unknown, headers: Record<string, string> = {}) =>
    call(t.url, 'PUT', `/api/metrics/${id}`, { secret: acme.admin, body, headers });
  const renamed = (name: string) => ({ ...definition, name });

  before(async () => {
    t = await startApp();
    acme = await createAccount(t.url, 'acme');
  });
  after(async () => t?.close());

  it('answers a metric with its version and its ETag on GET, on the 201 of POST and on the 200 of PUT', async () => {
    const created = await create();
    assert.equal(created.body.version, 1);
    assert.equal(created.headers.get('etag'), '"1"');
    const read = await get(created.body.id);
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('etag'), '"1"');
    assert.equal(read.body.version, 1);
    const replaced = await put(created.body.id, renamed('plain PUT'));
    assert.equal(replaced.status, 200);
    assert.equal(replaced.headers.get('etag'), '"2"');
    assert.equal((await get(created.body.id)).headers.get('etag'), '"2"');
  });

  it('applies a PUT whose If-Match is the current ETag and answers the new ETag', async () => {
    const { body: m } = await create();
    const etag = (await get(m.id)).headers.get('etag')!;
    const r = await put(m.id, renamed('matched'), { 'if-match': etag });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.headers.get('etag'), '"2"');
    assert.equal(r.body.version, 2);
    const after = await get(m.id);
    assert.equal(after.body.name, 'matched');
    assert.equal(after.headers.get('etag'), r.headers.get('etag'));
    // Any of several listed tags will do.
    assert.equal((await put(m.id, renamed('listed'), { 'if-match': '"7", "2"' })).status, 200);
  });

  it('refuses a stale If-Match with 412 and leaves the metric unchanged', async () => {
    const { body: m } = await create();
    const stale = (await get(m.id)).headers.get('etag')!;
    assert.equal((await put(m.id, renamed('someone else'))).status, 200);
    const before = await get(m.id);
    const r = await put(m.id, renamed('lost update'), { 'if-match': stale });
    assert.equal(r.status, 412);
    assert.equal(r.body.error.code, 'precondition_failed');
    assert.match(r.body.error.message, /If-Match/);
    const after = await get(m.id);
    assert.deepEqual(after.body, before.body, 'name, version and updatedAt unchanged');
    assert.equal(after.headers.get('etag'), '"2"');
    // A weak tag never matches (If-Match compares strongly).
    assert.equal((await put(m.id, renamed('weak'), { 'if-match': 'W/"2"' })).status, 412);
  });

  it('lets If-Match: * replace any existing version, and a missing metric is still 404', async () => {
    const { body: m } = await create();
    assert.equal((await put(m.id, renamed('v2'))).status, 200);
    const r = await put(m.id, renamed('star'), { 'if-match': '*' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('etag'), '"3"');
    assert.equal((await get(m.id)).body.name, 'star');
    assert.equal((await put('no-such-metric', renamed('x'), { 'if-match': '*' })).status, 404);
  });

  it('refuses a stale version in the body with 409 and leaves the metric unchanged; a current one applies', async () => {
    const { body: m } = await create();
    assert.equal((await put(m.id, renamed('someone else'))).status, 200);
    const r = await put(m.id, { ...renamed('lost update'), version: 1 });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'conflict');
    assert.match(r.body.error.message, /version 1 is stale.*version 2/);
    assert.equal((await get(m.id)).body.name, 'someone else');
    const ok = await put(m.id, { ...renamed('based on 2'), version: 2 });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.version, 3);
    // Body and header that agree: the header's status when stale.
    assert.equal((await put(m.id, { ...renamed('stale both'), version: 2 }, { 'if-match': '"2"' })).status, 412);
  });

  it('answers 400 naming version when If-Match and the body version disagree, and If-Match when it is malformed', async () => {
    const { body: m } = await create();
    const disagree = await put(m.id, { ...renamed('x'), version: 2 }, { 'if-match': '"1"' });
    assert.equal(disagree.status, 400);
    assert.equal(disagree.body.error.code, 'validation_failed');
    assert.deepEqual(disagree.body.error.details.map((d: { field: string }) => d.field), ['version']);
    for (const bad of ['1', '', '"1" "2"', 'W/1']) {
      const r = await put(m.id, renamed('x'), { 'if-match': bad });
      assert.equal(r.status, 400, bad);
      assert.equal(r.body.error.details[0].field, 'If-Match', bad);
    }
    assert.equal((await get(m.id)).body.version, 1, 'nothing was applied');
  });

  it('takes the body of its own GET back unchanged: the definition stays, the version moves on', async () => {
    const histogram = { name: 'length', type: 'histogram', aggregation: 'count', eventName: 'message_sent', field: 'charactersCount', buckets: [10, 100] };
    for (const def of [definition, histogram]) {
      const { body: m } = await create(def);
      const read = await get(m.id);
      const r = await put(m.id, read.body, { 'if-match': read.headers.get('etag')! });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const { updatedAt: _u, version, ...rest } = r.body;
      const { updatedAt: _u0, version: v0, ...rest0 } = read.body;
      assert.deepEqual(rest, rest0);
      assert.equal(version, v0 + 1);
      const again = await get(m.id);
      assert.deepEqual(again.body, r.body, 'the answer of PUT is what GET now answers');
      assert.equal(again.headers.get('etag'), r.headers.get('etag'));
    }
  });

  it('applies a changed GET body (the version in it is the condition) and ignores createdAt and updatedAt', async () => {
    const { body: m } = await create();
    const { body: read } = await get(m.id);
    const r = await put(m.id, { ...read, name: 'renamed from GET', createdAt: '1999-01-01T00:00:00.000Z', updatedAt: 'whenever' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const after = await get(m.id);
    assert.equal(after.body.name, 'renamed from GET');
    assert.equal(after.body.version, 2);
    assert.equal(after.body.createdAt, read.createdAt);
    assert.notEqual(after.body.updatedAt, 'whenever');
    // The same GET body again is now stale.
    assert.equal((await put(m.id, { ...read, name: 'stale GET' })).status, 409);
    assert.equal((await get(m.id)).body.name, 'renamed from GET');
  });

  it('answers 400 naming id when the body names another metric, and still refuses unknown fields', async () => {
    const { body: m } = await create();
    const { body: other } = await create();
    const { body: read } = await get(m.id);
    const r = await put(m.id, { ...read, id: other.id });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.error.details.map((d: { field: string }) => d.field), ['id']);
    for (const field of ['accountId', 'nmae']) {
      const u = await put(m.id, { ...read, [field]: 'x' });
      assert.equal(u.status, 400, field);
      assert.equal(u.body.error.details[0].field, field);
    }
    // POST creates: the read-only fields are not part of a new definition.
    assert.equal((await call(t.url, 'POST', '/api/metrics', { secret: acme.admin, body: { ...definition, version: 1 } })).status, 400);
    assert.equal((await get(m.id)).body.version, 1);
    assert.equal((await get(other.id)).body.version, 1);
  });

  it('lets exactly one of several concurrent PUTs based on the same ETag win', async () => {
    const { body: m } = await create();
    const results = await Promise.all(['a', 'b', 'c'].map((n) => put(m.id, renamed(n), { 'if-match': '"1"' })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 412, 412]);
    const winner = results.find((r) => r.status === 200)!;
    const after = await get(m.id);
    assert.equal(after.body.name, winner.body.name);
    assert.equal(after.body.version, 2);
  });
});
