import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IngestPipelineService } from '../src/events/ingest-pipeline.service.js';
import { call, createAccount, type Credentials, ROOT_KEY, startApp, type TestApp } from './support/app.js';
import { ServiceProcess } from './support/service-process.js';
import { TestSmtp, until } from './support/smtp.js';

describe('report emails', () => {
  const smtp = new TestSmtp();
  let t: TestApp;
  let acme: Credentials;
  const api = (method: string, path: string, secret: string, body?: unknown) => call(t.url, method, path, { secret, body });

  before(async () => {
    await smtp.start();
    t = await startApp({ SMTP_URL: smtp.url, MAIL_FROM: 'Reports <reports@example.com>', PUBLIC_URL: 'https://analytics.example.com' });
    acme = await createAccount(t.url, 'acme');
    const events = Array.from({ length: 20 }, (_, i) => ({ eventType: 'app', eventName: i % 2 ? 'signup' : 'login', userId: `u${i % 7}`, timestamp: Date.now() - 86_400_000 - i * 60_000 }));
    await api('POST', '/api/events/batch', acme.write, { events });
    await t.app.get(IngestPipelineService).flush();
  });
  after(async () => {
    await t?.close();
    await smtp.stop();
  });

  it('mails every recipient once, the file attached and the KPIs and first chart in the body, retrying a refusal', async () => {
    smtp.onMessage = (n) => (n === 1 ? 'refuse' : 'accept');
    const created = await api('POST', '/api/reports', acme.admin, {
      name: 'Weekly summary',
      template: 'event_summary',
      parameters: { dateRange: 'last_7_days' },
      format: 'csv',
      recipients: ['ana@example.com', 'Ben@Example.com'],
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const id = created.body.report.id;
    const report = await until('both deliveries', async () => {
      const r = (await api('GET', `/api/reports/${id}`, acme.read)).body;
      const d = r.runs?.[0]?.deliveries ?? [];
      return d.length === 2 && d.every((x: { status: string }) => x.status === 'sent') && r;
    });
    assert.equal(smtp.to('ana@example.com').length, 1);
    assert.equal(smtp.to('ben@example.com').length, 1);
    const mail = smtp.to('ana@example.com')[0]!;
    assert.match(mail.subject ?? '', /Weekly summary/);
    assert.match(mail.messageId ?? '', /^<report-[0-9a-f]{32}@example\.com>$/);
    assert.equal(mail.headers.get('x-report-run'), report.runs[0].id);
    const file = Buffer.from(await (await fetch(`${t.url}/api/reports/${id}/download`, { headers: { authorization: `Bearer ${acme.read}` } })).arrayBuffer());
    const attached = mail.attachments.find((a) => a.filename?.endsWith('.csv'));
    assert.ok(attached, mail.attachments.map((a) => a.filename).join());
    assert.ok(attached.content.equals(file), 'the attachment is the file, byte for byte');
    const chart = mail.attachments.find((a) => a.contentType === 'image/png');
    assert.ok(chart, `an inline chart among ${JSON.stringify(mail.attachments.map((a) => [a.filename, a.contentType, a.cid, a.contentId]))}`);
    assert.ok(chart.cid && String(mail.html).includes(`cid:${chart.cid}`), `the first chart is inline: ${chart.cid} in ${String(mail.html).slice(0, 3000)}`);
    assert.match(String(mail.html), /Events/);
    assert.match(mail.text ?? '', /Events/);
    // The first attempt was refused (451), the retry sent it: both are in the history.
    const refused = report.runs[0].deliveries.find((d: { attempts: unknown[] }) => d.attempts.length === 2);
    assert.ok(refused, JSON.stringify(report.runs[0].deliveries));
    assert.deepEqual(refused.attempts.map((a: { outcome: string }) => a.outcome), ['failed', 'sent']);
    assert.match(refused.attempts[0].detail, /451/);
  });

  it('sends a signed, expiring link instead of a file above REPORTS_MAX_ATTACHMENT_MB', async () => {
    // A limit of 1 MB and an export of about 1.5 MB of events.
    await t.close();
    t = await startApp({ SMTP_URL: smtp.url, PUBLIC_URL: 'http://link.test', REPORTS_MAX_ATTACHMENT_MB: '1' });
    acme = await createAccount(t.url, 'big');
    const padding = 'x'.repeat(300);
    for (let b = 0; b < 5; b++) {
      const events = Array.from({ length: 1000 }, (_, i) => ({ eventType: 'app', eventName: 'bulk', userId: `u${i}`, timestamp: Date.now() - 86_400_000 - (b * 1000 + i) * 1000, properties: { padding } }));
      await api('POST', '/api/events/batch', acme.write, { events });
    }
    await t.app.get(IngestPipelineService).flush();
    smtp.onMessage = () => 'accept';
    const created = await api('POST', '/api/reports', acme.admin, {
      name: 'Export',
      template: 'event_export',
      parameters: { dateRange: 'last_7_days', eventName: 'bulk' },
      format: 'csv',
      recipients: ['big@example.com'],
    });
    const id = created.body.report.id;
    const report = await until('the delivery', async () => {
      const r = (await api('GET', `/api/reports/${id}`, acme.read)).body;
      return r.runs?.[0]?.deliveries?.[0]?.status === 'sent' && r;
    });
    assert.ok(report.runs[0].bytes > 1024 * 1024, `${report.runs[0].bytes} bytes`);
    const mail = smtp.to('big@example.com')[0]!;
    assert.equal(mail.attachments.filter((a) => a.filename?.endsWith('.csv')).length, 0, 'not attached');
    const link = /http:\/\/link\.test(\/api\/reports\/links\?token=[A-Za-z0-9_.-]+)/.exec(String(mail.html))?.[1];
    assert.ok(link, String(mail.html));
    const file = await fetch(`${t.url}${link}`);
    assert.equal(file.status, 200, 'the link is the credential');
    assert.equal((await file.arrayBuffer()).byteLength, report.runs[0].bytes);
    const tampered = `${link.slice(0, -3)}${link.endsWith('A') ? 'B' : 'A'}xx`;
    assert.equal((await fetch(`${t.url}${tampered}`)).status, 404);
  });
});

describe('report emails across a crash', () => {
  it('sends each recipient exactly one email when the worker is killed with -9 during a delivery', async () => {
    const smtp = new TestSmtp();
    await smtp.start();
    // The first message is held in DATA (never acknowledged), so the service dies mid-send.
    smtp.onMessage = (n) => (n === 1 ? 'hold' : 'accept');
    const dataDir = mkdtempSync(join(tmpdir(), 'reports-crash-'));
    const env = { DATA_DIR: dataDir, SMTP_URL: smtp.url };
    const first = new ServiceProcess(env);
    let second: ServiceProcess | undefined;
    try {
      await first.start();
      const account = await createAccount(first.url, 'crash');
      await call(first.url, 'POST', '/api/events', { secret: account.write, body: { eventType: 'app', eventName: 'login', userId: 'u1' } });
      const created = await call(first.url, 'POST', '/api/reports', {
        secret: account.admin,
        body: { name: 'Crash', template: 'event_summary', format: 'csv', recipients: ['one@example.com', 'two@example.com'] },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      await until('the first message to start', async () => smtp.started >= 1).catch((err: Error) => {
        throw new Error(`${err.message}; the service said:\n${first.output}`);
      });
      assert.equal(await first.stop('SIGKILL'), null);
      second = new ServiceProcess(env);
      await second.start();
      const url = second.url;
      const report = await until('both deliveries after the restart', async () => {
        const r = (await call(url, 'GET', `/api/reports/${created.body.report.id}`, { secret: account.read })).body;
        const d = r.runs?.[0]?.deliveries ?? [];
        return d.length === 2 && d.every((x: { status: string }) => x.status === 'sent') && r;
      });
      assert.equal(smtp.to('one@example.com').length, 1, 'one email to the recipient whose send was cut');
      assert.equal(smtp.to('two@example.com').length, 1);
      const cut = report.runs[0].deliveries.find((d: { recipient: string }) => d.recipient === 'one@example.com');
      assert.deepEqual(cut.attempts.map((a: { outcome: string }) => a.outcome), ['interrupted', 'sent']);
    } finally {
      await second?.stop('SIGTERM');
      await first.stop('SIGKILL');
      await smtp.stop();
    }
  });
});

void ROOT_KEY;
