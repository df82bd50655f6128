import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlertEvaluator, AlertScheduler } from '../src/alerts/index.js';
import { IngestPipelineService } from '../src/events/ingest-pipeline.service.js';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';
import { TestSmtp, until } from './support/smtp.js';

const H = 3_600_000;
const DAY = 24 * H;
/** A day three days ago, midnight UTC: every window of it is complete. */
const BASE = Math.floor((Date.now() - 3 * DAY) / DAY) * DAY;
/** Errors per hour of BASE's day: it breaches (> 5) at hours 1–2, 4–5, 8–12. */
const ERRORS = [2, 8, 9, 1, 7, 8, 2, 0, 9, 9, 9, 9, 9, 0, 0, 0];

describe('alerts (API and evaluation)', () => {
  const smtp = new TestSmtp();
  let t: TestApp;
  let acme: Credentials;
  let globex: Credentials;
  let errorRateId: string;
  const api = (method: string, path: string, secret: string, body?: unknown, headers?: Record<string, string>) => call(t.url, method, path, { secret, body, headers });
  const evaluator = () => t.app.get(AlertEvaluator);
  /** Judges hour `h` of BASE's day, as the tick would once it closed. */
  const judgeHour = (id: string, h: number) => evaluator().evaluate(id, BASE + (h + 1) * H, BASE + (h + 1) * H + 60_000);
  const history = async (id: string) => (await api('GET', `/api/alerts/${id}/history?limit=1000`, acme.read)).body.history as Record<string, any>[];

  before(async () => {
    await smtp.start();
    // ALERTS_ALLOW_PRIVATE_URLS is not set: channel URLs on private addresses are refused.
    t = await startApp({ SMTP_URL: smtp.url, MAIL_FROM: 'Alerts <alerts@example.com>', PUBLIC_URL: 'https://analytics.example.com', ALERTS_EVAL_INTERVAL: '3600', ALERTS_EVAL_DELAY: '0' });
    acme = await createAccount(t.url, 'acme');
    globex = await createAccount(t.url, 'globex');
    const events = ERRORS.flatMap((n, h) => Array.from({ length: n }, (_, i) => ({ eventType: 'log', eventName: 'error', timestamp: BASE + h * H + i * 60_000, properties: { service: i % 2 ? 'api' : 'web', latency: 100 + i } })));
    assert.equal((await api('POST', '/api/events/batch', acme.write, { events })).status, 202);
    await t.app.get(IngestPipelineService).flush();
    const metric = await api('POST', '/api/metrics', acme.admin, { name: 'error_rate', type: 'counter', aggregation: 'count', eventName: 'error', dimensions: ['service'] });
    assert.equal(metric.status, 201, JSON.stringify(metric.body));
    errorRateId = metric.body.id;
  });
  after(async () => {
    await t?.close();
    await smtp.stop();
  });

  it('takes the spec example as written once the account has email and Slack channels, and names what is missing otherwise', async () => {
    const example = { name: 'High Error Rate', metric: 'error_rate', condition: 'greater_than', threshold: 5, severity: 'critical', channels: ['email', 'slack'] };
    const missing = await api('POST', '/api/alerts', acme.admin, example);
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.error.details.map((d: { field: string }) => d.field), ['channels[0]', 'channels[1]']);
    assert.match(missing.body.error.details[0].message, /PUT \/api\/alerts\/channels/);

    const channels = await api('PUT', '/api/alerts/channels', acme.admin, { email: ['oncall@example.com'], slack: 'https://hooks.slack.com/services/T000/B000/XXXX' });
    assert.equal(channels.status, 200, JSON.stringify(channels.body));
    assert.deepEqual((await api('GET', '/api/alerts/channels', acme.read)).body.email, ['oncall@example.com']);

    const created = await api('POST', '/api/alerts', acme.admin, example);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get('etag'), '"1"');
    assert.equal(created.body.metric.id, errorRateId, 'the metric name resolves to its id');
    assert.equal(created.body.metric.name, 'error_rate');
    assert.equal(created.body.window, '5m');
    assert.equal(created.body.for, 1);
    assert.equal(created.body.cooldown, 900);
    assert.equal(created.body.noData, 'ok');
    assert.equal(created.body.status.state, 'ok');
    assert.ok(created.body.status.nextEvaluationAt, 'scheduled for when the window now filling closes');
    assert.match(created.body.webhookSecret, /^[A-Za-z0-9_-]{43}$/);

    const read = await api('GET', `/api/alerts/${created.body.id}`, acme.read);
    assert.equal(read.status, 200);
    assert.equal(read.body.webhookSecret, undefined, 'the secret is not shown to readers');
    assert.equal((await api('GET', '/api/alerts', acme.read)).body.total, 1);

    // PUT with the GET answer sent back, If-Match; a stale tag is refused.
    const updated = await api('PUT', `/api/alerts/${created.body.id}`, acme.admin, { ...read.body, threshold: 10 }, { 'if-match': '"1"' });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.threshold, 10);
    assert.equal((await api('PUT', `/api/alerts/${created.body.id}`, acme.admin, { ...example }, { 'if-match': '"1"' })).status, 412);

    // Another account sees none of it.
    assert.equal((await api('GET', `/api/alerts/${created.body.id}`, globex.read)).status, 404);
    assert.equal((await api('GET', `/api/alerts/${created.body.id}/history`, globex.read)).status, 404);
    assert.equal((await api('PUT', `/api/alerts/${created.body.id}`, globex.admin, example)).status, 404);
    assert.equal((await api('DELETE', `/api/alerts/${created.body.id}`, globex.admin)).status, 404);
    assert.equal((await api('POST', '/api/alerts', acme.read, example)).status, 403);
    assert.equal((await api('DELETE', `/api/alerts/${created.body.id}`, acme.admin)).status, 204);
    assert.equal((await api('GET', `/api/alerts/${created.body.id}`, acme.read)).status, 404);
  });

  it('refuses bad definitions with the field and the problem, and channel URLs on private addresses', async () => {
    const base = { name: 'x', metric: errorRateId, condition: 'greater_than', threshold: 1, channels: ['email'] };
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ metric: 'nope' }, 'metric', /no metric with the id or name "nope"/],
      [{ threshold: undefined }, 'threshold', /required/],
      [{ condition: 'bigger' }, 'condition', /must be one of/],
      [{ condition: 'anomaly' }, 'threshold', /no threshold/],
      [{ condition: 'change_pct_up', threshold: -5 }, 'threshold', /positive percentage/],
      [{ window: '7m' }, 'window', /must be one of 1m, 5m/],
      [{ for: 0 }, 'for', /whole number from 1 to 100/],
      [{ cooldown: -1 }, 'cooldown', /whole number/],
      [{ severity: 'urgent' }, 'severity', /info, warning, critical/],
      [{ timezone: 'Mars/Olympus' }, 'timezone', /IANA/],
      [{ metric: { id: errorRateId, dimension: 'country', value: 'DE' } }, 'metric.dimension', /not one of the metric's dimensions \(service\)/],
      [{ channels: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }] }, 'channels[0].url', /private, loopback or link-local address \(127\.0\.0\.1\)/],
      [{ channels: [{ type: 'webhook', url: 'http://169.254.169.254/latest/meta-data' }] }, 'channels[0].url', /169\.254\.169\.254/],
      [{ channels: [{ type: 'slack', url: 'http://[::1]:8080/x' }] }, 'channels[0].url', /::1/],
      [{ channels: [{ type: 'webhook', url: 'ftp://example.com/x' }] }, 'channels[0].url', /http or https/],
      [{ channels: [{ type: 'email', to: ['not-an-address'] }] }, 'channels[0].to[0]', /email address/],
      [{ channels: [] }, 'channels', /1 to 20/],
    ];
    for (const [change, field, message] of cases) {
      const res = await api('POST', '/api/alerts', acme.admin, { ...base, ...change });
      assert.equal(res.status, 400, `${JSON.stringify(change)} → ${res.status}`);
      const detail = res.body.error.details.find((d: { field: string }) => d.field === field);
      assert.ok(detail, `${JSON.stringify(change)}: ${JSON.stringify(res.body.error.details)}`);
      assert.match(detail.message, message);
    }
    const privateSlack = await api('PUT', '/api/alerts/channels', acme.admin, { email: [], slack: 'http://10.1.2.3/hook' });
    assert.equal(privateSlack.status, 400);
    assert.equal(privateSlack.body.error.details[0].field, 'slack');
    assert.equal((await api('GET', '/api/alerts', acme.read)).body.total, 0, 'nothing refused was stored');
  });

  it('fires after `for` windows, sends one email, holds flapping to one message per cooldown and announces the recovery', async () => {
    const created = await api('POST', '/api/alerts', acme.admin, {
      name: 'Errors',
      metric: errorRateId,
      condition: 'greater_than',
      threshold: 5,
      severity: 'critical',
      channels: [{ type: 'email', to: ['sre@example.com'] }],
      window: '1h',
      for: 2,
      cooldown: 3.5 * 3600,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id;
    const states: string[] = [];
    for (let h = 0; h <= 7; h++) {
      assert.equal(await judgeHour(id, h), 1);
      states.push((await api('GET', `/api/alerts/${id}`, acme.read)).body.status.state);
    }
    // 2 ok, 8 pending, 9 firing, 1 ok, 7 pending, 8 firing, 2 ok, 0 ok.
    assert.deepEqual(states, ['ok', 'pending', 'firing', 'ok', 'pending', 'firing', 'ok', 'ok']);
    assert.equal(await judgeHour(id, 7), 0, 'a window is judged once');

    // Firing at hour 2's end; the recovery at hour 3 is inside the 3.5 h cooldown, and so is the
    // second firing: the recovery goes out at hour 6's end, once the cooldown has passed.
    const mails = await until('two emails', async () => smtp.to('sre@example.com').length >= 2 && smtp.to('sre@example.com'));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(smtp.to('sre@example.com').length, 2);
    assert.equal(mails[0]!.subject, '[critical] Errors is firing');
    assert.match(mails[0]!.text!, /Value: 9\n/);
    assert.match(mails[0]!.text!, /Threshold: > 5/);
    assert.match(mails[0]!.text!, /https:\/\/analytics\.example\.com\/api\/alerts\//);
    assert.equal(mails[1]!.subject, '[resolved] Errors is back to normal');

    const entries = await history(id);
    const changes = entries.filter((e) => e.type === 'state_change').reverse();
    assert.deepEqual(changes.map((e) => `${e.from}>${e.to}`), ['ok>pending', 'pending>firing', 'firing>ok', 'ok>pending', 'pending>firing', 'firing>ok']);
    assert.deepEqual(entries.filter((e) => e.notification && e.type !== 'delivery').map((e) => e.notification).reverse(), ['firing', 'resolved']);
    const firing = changes[1]!;
    assert.equal(firing.value, 9);
    assert.equal(firing.windowStart, new Date(BASE + 2 * H).toISOString());
    assert.match(firing.explanation, /9 is greater than 5/);
    const sent = entries.filter((e) => e.type === 'delivery' && e.outcome === 'sent');
    assert.equal(sent.length, 2);
    assert.equal(sent[0]!.channel, 'email');
    // Newest first.
    assert.ok(entries.every((e, i) => i === 0 || entries[i - 1]!.at >= e.at));
  });

  it('repeats while firing no more often than the cooldown', async () => {
    const created = await api('POST', '/api/alerts', acme.admin, {
      name: 'Always',
      metric: errorRateId,
      condition: 'less_than',
      threshold: 100,
      channels: [{ type: 'email', to: ['repeat@example.com'] }],
      window: '1h',
      cooldown: 2 * 3600,
    });
    for (let h = 0; h <= 4; h++) await judgeHour(created.body.id, h);
    const mails = await until('three emails', async () => smtp.to('repeat@example.com').length >= 3 && smtp.to('repeat@example.com'));
    assert.deepEqual(mails.map((m) => m.subject), ['[warning] Always is firing', '[warning] Always is still firing', '[warning] Always is still firing']);
  });

  it('judges percent change against the window before, and one dimension value', async () => {
    const created = await api('POST', '/api/alerts', acme.admin, {
      name: 'Web errors doubling',
      metric: { id: 'error_rate', dimension: 'service', value: 'web' },
      condition: 'change_pct_up',
      threshold: 100,
      channels: [{ type: 'email', to: ['web@example.com'] }],
      window: '1h',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.metric, { id: errorRateId, name: 'error_rate', dimension: 'service', value: 'web' });
    // Web errors are the even-numbered ones: hour 0 has 1 (after none: no percentage), hour 1 has 4 (+300 %).
    await judgeHour(created.body.id, 0);
    await judgeHour(created.body.id, 1);
    const change = (await history(created.body.id)).find((e) => e.type === 'state_change')!;
    assert.equal(change.to, 'firing');
    assert.equal(change.value, 4);
    assert.match(change.explanation, /4 against 1 the window before \(\+300%\) is up by at least 100%/);
  });

  it('is no_data without a value (or fires, with noData: alert), and error when its query fails, never ok', async () => {
    const avg = await api('POST', '/api/metrics', acme.admin, { name: 'latency', type: 'gauge', aggregation: 'avg', eventName: 'error', field: 'latency' });
    const quiet = { metric: avg.body.id, condition: 'greater_than', threshold: 1000, channels: [{ type: 'email', to: ['nodata@example.com'] }], window: '1h' };
    const ok = await api('POST', '/api/alerts', acme.admin, { ...quiet, name: 'No data is ok' });
    const loud = await api('POST', '/api/alerts', acme.admin, { ...quiet, name: 'No data alerts', noData: 'alert' });
    // Hour 13 has no errors, so no latency.
    await judgeHour(ok.body.id, 13);
    await judgeHour(loud.body.id, 13);
    assert.equal((await api('GET', `/api/alerts/${ok.body.id}`, acme.read)).body.status.state, 'no_data');
    const loudState = (await api('GET', `/api/alerts/${loud.body.id}`, acme.read)).body.status;
    assert.equal(loudState.state, 'firing');
    assert.equal(loudState.lastValue, null);
    await until('the no-data email', async () => smtp.to('nodata@example.com').length === 1);

    // The metric is deleted: the next window is an error, with the reason, and no email.
    assert.equal((await api('DELETE', `/api/metrics/${avg.body.id}`, acme.admin)).status, 204);
    await judgeHour(ok.body.id, 14);
    const broken = (await api('GET', `/api/alerts/${ok.body.id}`, acme.read)).body.status;
    assert.equal(broken.state, 'error');
    assert.match(broken.lastError, /the metric no longer exists/);
    const change = (await history(ok.body.id)).find((e) => e.type === 'state_change' && e.to === 'error');
    assert.ok(change);
  });

  it('never judges the window still filling', async () => {
    const scheduler = t.app.get(AlertScheduler);
    const created = await api('POST', '/api/alerts', acme.admin, {
      name: 'Now',
      metric: errorRateId,
      condition: 'greater_than',
      threshold: 5,
      channels: [{ type: 'email', to: ['now@example.com'] }],
      window: '1m',
    });
    const now = Date.now();
    const minute = Math.floor(now / 60_000) * 60_000;
    const events = Array.from({ length: 10 }, (_, i) => ({ eventType: 'log', eventName: 'error', timestamp: minute + i }));
    assert.equal((await api('POST', '/api/events/batch', acme.write, { events })).status, 202);
    await t.app.get(IngestPipelineService).flush();
    // Ten errors already, in a minute not over: this alert is not due, nothing of it is judged.
    await scheduler.tick(minute + 59_999);
    await new Promise((r) => setTimeout(r, 300));
    const before = (await api('GET', `/api/alerts/${created.body.id}`, acme.read)).body.status;
    assert.equal(before.state, 'ok');
    assert.equal(before.lastWindowEnd, null);
    // Once the minute is over (ALERTS_EVAL_DELAY is 0 here), it is judged, and fires.
    assert.ok((await scheduler.tick(minute + 60_000)) >= 1);
    const after = await until('the evaluation', async () => {
      const s = (await api('GET', `/api/alerts/${created.body.id}`, acme.read)).body.status;
      return s.lastWindowEnd && s;
    });
    assert.equal(after.lastWindowEnd, new Date(minute + 60_000).toISOString());
    assert.equal(after.state, 'firing');
    assert.equal(after.lastValue, 10);
  });
});
