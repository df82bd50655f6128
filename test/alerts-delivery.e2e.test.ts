import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlertEvaluator } from '../src/alerts/index.js';
import { verifyWebhook } from '../src/alerts/notifiers/webhook-signature.js';
import { IngestPipelineService } from '../src/events/ingest-pipeline.service.js';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';
import { HttpReceiver } from './support/http-receiver.js';
import { TestSmtp, until } from './support/smtp.js';

const H = 3_600_000;
const DAY = 24 * H;
/** The end of the test data: a whole hour, two hours ago (every window before it is complete). */
const END = Math.floor(Date.now() / H) * H - 2 * H;
/** Five weeks of hourly data: four to learn from, the last one judged. */
const START = END - 35 * DAY;
const JUDGED_FROM = END - 7 * DAY;

/** A deterministic PRNG (mulberry32), so the noise is the same every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Orders per hour with a daily and weekly shape: quiet nights, a peak in the afternoon, weekends
 * at 35 % of weekdays, ±5 % noise. In the judged week, one weekday hour drops 30 % and another
 * doubles: the two anomalies.
 */
function seasonal(): { at: number; amount: number }[] {
  const noise = random(42);
  const points: { at: number; amount: number }[] = [];
  for (let t = START; t < END; t += H) {
    const d = new Date(t);
    const hour = d.getUTCHours();
    const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
    const daily = 100 + 400 * Math.exp(-((hour - 14) ** 2) / 8) + (hour >= 8 && hour <= 20 ? 150 : 0);
    let amount = daily * (weekend ? 0.35 : 1) * (0.95 + 0.1 * noise());
    if (t === DROP_AT) amount *= 0.7;
    if (t === SPIKE_AT) amount *= 2;
    points.push({ at: t, amount: Math.round(amount * 100) / 100 });
  }
  return points;
}

/** A weekday 14:00 (the daily peak) and a weekday 03:00 of the judged week. */
const weekdayAt = (hour: number, nth: number): number => {
  let found = 0;
  for (let t = JUDGED_FROM + hour * H - (JUDGED_FROM % DAY); t < END; t += DAY) {
    const day = new Date(t).getUTCDay();
    if (t >= JUDGED_FROM && day !== 0 && day !== 6 && ++found === nth) return t;
  }
  throw new Error('no weekday');
};
const DROP_AT = weekdayAt(14, 2);
const SPIKE_AT = weekdayAt(3, 4);

describe('alert notifications to Slack, webhooks and email, and anomalies', () => {
  const smtp = new TestSmtp();
  const receiver = new HttpReceiver();
  let t: TestApp;
  let acme: Credentials;
  let ordersId: string;
  const api = (method: string, path: string, secret: string, body?: unknown) => call(t.url, method, path, { secret, body });

  before(async () => {
    await smtp.start();
    await receiver.start();
    // The receiver is on 127.0.0.1: private URLs are allowed for this test.
    t = await startApp({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://analytics.example.com', ALERTS_ALLOW_PRIVATE_URLS: 'true', ALERTS_EVAL_INTERVAL: '3600', ALERTS_EVAL_DELAY: '0' });
    acme = await createAccount(t.url, 'acme');
    const events = seasonal().map((p) => ({ eventType: 'commerce', eventName: 'order', timestamp: p.at + 60_000, properties: { amount: p.amount } }));
    for (let i = 0; i < events.length; i += 1000) {
      assert.equal((await api('POST', '/api/events/batch', acme.write, { events: events.slice(i, i + 1000) })).status, 202);
    }
    await t.app.get(IngestPipelineService).flush();
    const metric = await api('POST', '/api/metrics', acme.admin, { name: 'revenue', type: 'gauge', aggregation: 'sum', eventName: 'order', field: 'amount', unit: 'EUR' });
    assert.equal(metric.status, 201, JSON.stringify(metric.body));
    ordersId = metric.body.id;
  });
  after(async () => {
    await t?.close();
    await receiver.stop();
    await smtp.stop();
  });

  it('posts a coloured Slack message and a signed webhook, retries a 500 and is accepted exactly once, and mails the account’s recipients', async () => {
    assert.equal((await api('PUT', '/api/alerts/channels', acme.admin, { email: ['oncall@example.com', 'lead@example.com'] })).status, 200);
    // The webhook answers its first request 500, then 200.
    let hookRequests = 0;
    receiver.answer = (_n, body) => (JSON.parse(body).attachments ? 200 : ++hookRequests === 1 ? 500 : 200);
    const created = await api('POST', '/api/alerts', acme.admin, {
      name: 'Revenue at the peak',
      metric: 'revenue',
      condition: 'greater_than',
      threshold: 500,
      severity: 'critical',
      window: '1h',
      channels: ['email', { type: 'slack', url: `${receiver.url}/slack` }, { type: 'webhook', url: `${receiver.url}/hook?token=abc` }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { id, webhookSecret } = created.body;
    assert.equal(await t.app.get(AlertEvaluator).evaluate(id, DROP_AT - 23 * H, DROP_AT - 23 * H + 60_000), 1); // the day before's 14:00–15:00

    await until('the webhook accepted', async () => receiver.accepted('/hook?token=abc').length === 1, 30_000);
    await until('the Slack message', async () => receiver.accepted('/slack').length === 1);
    await until('two emails', async () => smtp.accepted.length === 2);
    await new Promise((r) => setTimeout(r, 500));

    const hooks = receiver.requests.filter((r) => r.path === '/hook?token=abc');
    assert.deepEqual(hooks.map((h) => h.status), [500, 200], 'retried once after the 500, then never again');
    assert.equal(hooks[0]!.headers['idempotency-key'], hooks[1]!.headers['idempotency-key'], 'a retry carries the same idempotency key');
    for (const h of hooks) {
      assert.ok(verifyWebhook(webhookSecret, String(h.headers['x-alert-timestamp']), h.body, String(h.headers['x-alert-signature'])), 'signed with the alert’s secret');
    }
    const payload = JSON.parse(hooks[1]!.body);
    assert.equal(payload.kind, 'firing');
    assert.equal(payload.alert.severity, 'critical');
    assert.equal(payload.alert.url, `https://analytics.example.com/api/alerts/${id}`);
    assert.equal(payload.metric.name, 'revenue');
    assert.equal(payload.condition, 'greater_than');
    assert.ok(payload.value > 500);
    assert.deepEqual(payload.bound, { threshold: 500 });
    assert.match(payload.explanation, /is greater than 500/);

    const slack = JSON.parse(receiver.accepted('/slack')[0]!.body);
    assert.match(slack.text, /^\[critical\] Revenue at the peak is firing: [\d.]+ EUR \(> 500\)$/);
    assert.equal(slack.attachments[0].color, '#d92d20');
    assert.equal(slack.attachments[0].title_link, payload.alert.url);
    assert.deepEqual(slack.attachments[0].fields.map((f: { title: string }) => f.title), ['Metric', 'Value', 'Threshold', 'Window', 'Severity', 'Firing since']);

    assert.deepEqual(smtp.accepted.map((m) => (Array.isArray(m.to) ? m.to[0] : m.to)!.text).sort(), ['lead@example.com', 'oncall@example.com']);
    assert.equal(smtp.accepted[0]!.subject, '[critical] Revenue at the peak is firing');

    const history = (await api('GET', `/api/alerts/${id}/history`, acme.read)).body.history as Record<string, any>[];
    const attempts = history.filter((e) => e.type === 'delivery' && e.channel === 'webhook').reverse();
    assert.deepEqual(attempts.map((a) => a.outcome), ['failed', 'sent']);
    assert.match(attempts[0]!.detail, /HTTP 500/);
    assert.equal(attempts[0]!.target, `${receiver.url}/hook?…`, 'the query string (a token) stays out of the history');
  });

  it('flags a 30% drop and a spike within one window, not the daily peak or the quiet weekend, and the preview flags the same', async () => {
    const definition = { name: 'Revenue anomaly', metric: ordersId, condition: 'anomaly', window: '1h', channels: [{ type: 'email', to: ['anomaly@example.com'] }], cooldown: 0 };
    const preview = await api('POST', '/api/alerts/preview', acme.read, { ...definition, from: new Date(JUDGED_FROM).toISOString(), to: new Date(END).toISOString() });
    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    assert.equal(preview.body.summary.windows, 168);
    assert.equal(preview.body.summary.learning, 0);
    const flagged = preview.body.flagged.map((w: { from: string }) => Date.parse(w.from));
    assert.deepEqual(flagged, [DROP_AT, SPIKE_AT].sort((a, b) => a - b));
    const drop = preview.body.flagged.find((w: { from: string }) => Date.parse(w.from) === DROP_AT);
    assert.match(drop.explanation, /is below the expected/);
    assert.match(drop.explanation, /1\.4826 × MAD/);
    assert.match(drop.explanation, /same hour-of-week \(\w{3} 14:00\) in the last 4 weeks/);
    assert.ok(drop.bound.lower > drop.value && drop.bound.upper > drop.bound.lower);

    // The saved alert, judged window by window as the evaluator does, fires at the same windows.
    const created = await api('POST', '/api/alerts', acme.admin, definition);
    const evaluator = t.app.get(AlertEvaluator);
    for (let w = JUDGED_FROM + H; w <= END; w += H) await evaluator.evaluate(created.body.id, w, w + 60_000);
    const history = (await api('GET', `/api/alerts/${created.body.id}/history?limit=1000`, acme.read)).body.history as Record<string, any>[];
    const fired = history.filter((e) => e.type === 'state_change' && e.to === 'firing').map((e) => Date.parse(e.windowStart)).sort();
    assert.deepEqual(fired, flagged);
    const mails = await until('two anomaly emails and two recoveries', async () => smtp.to('anomaly@example.com').length >= 4 && smtp.to('anomaly@example.com'));
    const firing = mails.find((m) => m.subject === '[warning] Revenue anomaly is firing')!;
    assert.match(firing.text!, /Expected: [\d.]+ to [\d.]+ \(median [\d.]+\)/);
    assert.match(firing.text!, /Observed [\d.]+ is (below|above) the expected/);
  });
});
