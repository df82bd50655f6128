import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ExcelJS from 'exceljs';
import { parse as parseCsv } from 'csv-parse/sync';
import { IngestPipelineService } from '../src/events/ingest-pipeline.service.js';
import type { KpiSection, ReportDocument, ReportSection, TableSection } from '../src/reports/report-document.js';
import { ReportRunner } from '../src/reports/report-runner.js';
import { ReportScheduler } from '../src/reports/report-scheduler.js';
import { ReportsRepository } from '../src/reports/reports.repository.js';
import { call, createAccount, type Credentials, startApp, type TestApp } from './support/app.js';
import { pdfText } from './support/pdf.js';

const DAY = 86_400_000;
/** Midnight UTC `n` days before today, as epoch ms. */
const daysAgo = (n: number) => Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) - n * DAY;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The fixture: a campaign's messages over two days, other events, and web sessions. */
function messageEvents() {
  const events: Record<string, unknown>[] = [];
  const e = (name: string, user: string, t: number, campaignId: string) =>
    events.push({ eventType: 'message', eventName: name, userId: user, timestamp: t, properties: { campaignId, channel: 'email' } });
  for (let i = 0; i < 10; i++) e('message_sent', `u${i}`, daysAgo(2) + 9 * 3_600_000 + i * 60_000, '123');
  for (let i = 0; i < 8; i++) e('message_delivered', `u${i}`, daysAgo(2) + 10 * 3_600_000 + i * 60_000, '123');
  for (let i = 0; i < 5; i++) e('message_read', `u${i}`, daysAgo(1) + 8 * 3_600_000 + i * 60_000, '123');
  for (let i = 0; i < 3; i++) e('message_sent', `v${i}`, daysAgo(1) + 9 * 3_600_000 + i * 60_000, '456');
  for (let i = 0; i < 4; i++) events.push({ eventType: 'app', eventName: 'signup 注册 регистрация 가입', userId: `u${i}`, timestamp: daysAgo(1) + 12 * 3_600_000 + i * 1000 });
  return events;
}

describe('reports', () => {
  let t: TestApp;
  let acme: Credentials;
  let other: Credentials;
  const api = (method: string, path: string, secret: string, body?: unknown) => call(t.url, method, path, { secret, body });

  /** Polls a report until its newest run has finished. */
  async function finished(id: string, secret = acme.admin, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await api('GET', `/api/reports/${id}`, secret);
      const run = r.body.runs?.[0];
      if (run && (run.status === 'succeeded' || run.status === 'failed')) return r.body;
      if (Date.now() > deadline) throw new Error(`report ${id} did not finish: ${JSON.stringify(r.body)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  /** A report's document, as the runner builds it, as of now. */
  async function documentOf(id: string, accountId = acme.accountId): Promise<ReportDocument> {
    const record = await t.app.get(ReportsRepository).find(accountId, id);
    return t.app.get(ReportRunner).document(record!, Date.now());
  }
  const kpis = (doc: ReportDocument) =>
    Object.fromEntries(doc.sections.filter((s): s is KpiSection => s.kind === 'kpis').flatMap((s) => s.kpis.map((k) => [k.label, k.value])));
  const table = (doc: ReportDocument, title: string) => {
    const s = doc.sections.find((x: ReportSection): x is TableSection => x.kind === 'table' && x.title === title);
    assert.ok(s, `table ${title}`);
    return s.table;
  };

  before(async () => {
    t = await startApp();
    acme = await createAccount(t.url, 'acme');
    other = await createAccount(t.url, 'other');
    const res = await api('POST', '/api/events/batch', acme.write, { events: messageEvents() });
    assert.equal(res.body.accepted, messageEvents().length, JSON.stringify(res.body));
    // Web traffic for the web overview, funnel and retention: three devices over two days.
    const headers = { 'openpanel-client-id': acme.clients.write.clientId, 'openpanel-client-secret': acme.write, 'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15' };
    const view = (device: string, t0: number, path: string, name = 'screen_view') => ({
      type: 'track',
      payload: { name, deviceId: device, properties: { __timestamp: new Date(t0).toISOString(), __path: `https://shop.example.com${path}` } },
    });
    const envelopes = [
      view('d1', daysAgo(2) + 10 * 3_600_000, '/'),
      view('d1', daysAgo(2) + 10 * 3_600_000 + 60_000, '/pricing'),
      view('d1', daysAgo(2) + 10 * 3_600_000 + 120_000, '/pricing', 'checkout'),
      view('d2', daysAgo(2) + 11 * 3_600_000, '/'),
      view('d3', daysAgo(1) + 11 * 3_600_000, '/docs'),
      view('d1', daysAgo(1) + 15 * 3_600_000, '/'),
    ];
    assert.equal((await call(t.url, 'POST', '/track', { body: { type: 'batch', payload: envelopes }, headers })).status, 202);
    await t.app.get(IngestPipelineService).flush();
  });
  after(async () => t?.close());

  it('lists every template with its parameters and their types', async () => {
    const res = await api('GET', '/api/reports/templates', acme.read);
    assert.equal(res.status, 200);
    const names = res.body.templates.map((x: { name: string }) => x.name);
    assert.deepEqual(names, ['campaign_performance', 'event_summary', 'metrics', 'web_overview', 'funnel', 'retention', 'event_export']);
    const campaign = res.body.templates[0];
    assert.deepEqual(campaign.parameters.find((p: { name: string }) => p.name === 'campaignId'), { name: 'campaignId', type: 'string', description: 'The campaign', required: true, min: 1, max: 200 });
    assert.equal(res.body.templates[4].parameters.find((p: { name: string }) => p.name === 'countBy').type, 'enum');
  });

  it("takes the spec's example as written, generates it in a job and serves the PDF", async () => {
    const created = await api('POST', '/api/reports', acme.admin, {
      name: 'Campaign 123',
      template: 'campaign_performance',
      parameters: { campaignId: '123', dateRange: { start: '2024-01-01', end: '2024-01-31' } },
      format: 'pdf',
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.equal(created.body.run.status, 'queued');
    assert.match(created.headers.get('etag') ?? '', /^"1"$/);
    const report = await finished(created.body.report.id);
    assert.equal(report.runs[0].status, 'succeeded', JSON.stringify(report.runs[0]));
    assert.deepEqual(report.runs[0].period, { from: '2024-01-01T00:00:00.000Z', to: '2024-02-01T00:00:00.000Z', label: '2024-01-01 – 2024-01-31', inProgress: false });
    const file = await fetch(`${t.url}/api/reports/${created.body.report.id}/download`, { headers: { authorization: `Bearer ${acme.read}` } });
    assert.equal(file.status, 200);
    assert.equal(file.headers.get('content-type'), 'application/pdf');
    assert.equal(file.headers.get('content-disposition'), `attachment; filename="Campaign-123-2024-01-31.pdf"; filename*=UTF-8''Campaign-123-2024-01-31.pdf`);
    const bytes = Buffer.from(await file.arrayBuffer());
    assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
    const text = await pdfText(bytes);
    assert.match(text, /Campaign 123/);
    assert.match(text, /2024-01-01 – 2024-01-31/);
  });

  it('reports what the API answers, template by template', async () => {
    const range = `from=${daysAgo(7)}&to=${daysAgo(0)}`;
    const insightsRange = `startDate=${isoDay(daysAgo(7))}&endDate=${isoDay(daysAgo(1))}`;
    const create = async (template: string, parameters: Record<string, unknown>) => {
      const r = await api('POST', '/api/reports', acme.admin, { name: template, template, parameters: { dateRange: 'last_7_days', ...parameters }, format: 'csv' });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      return documentOf(r.body.report.id);
    };
    let metricCount = 0;
    const metric = async (definition: Record<string, unknown>) => {
      const m = await api('POST', '/api/metrics', acme.admin, { name: `metric ${++metricCount}`, type: 'counter', ...definition });
      assert.equal(m.status, 201, JSON.stringify(m.body));
      return m.body.id as string;
    };
    const totalOf = async (id: string, extra = '') => (await api('GET', `/api/metrics/${id}/data?${range}&interval=day${extra}`, acme.read)).body.totals.value;

    // event_summary: every event, unique users, sessions, top events.
    const summary = await create('event_summary', {});
    const events = await metric({ aggregation: 'count' });
    const users = await metric({ aggregation: 'unique', field: 'users' });
    const sessions = await metric({ aggregation: 'unique', field: 'sessions' });
    assert.deepEqual(
      [kpis(summary).Events, kpis(summary)['Unique users'], kpis(summary).Sessions],
      [await totalOf(events), await totalOf(users), await totalOf(sessions)],
    );
    assert.equal(kpis(summary).Events, 36, '30 messages and signups, 6 web events');
    const top = table(summary, 'Top events').rows as unknown[][];
    assert.deepEqual(top[0], ['message_sent', 13, 13, 36.11]);

    // campaign_performance: the campaign's stages, as metrics with its filter answer them.
    const campaign = await create('campaign_performance', { campaignId: '123' });
    const filter = (name: string) => metric({ aggregation: 'count', eventName: name, filters: [{ field: 'campaignId', op: 'eq', value: '123' }] });
    const stageTotals = [await totalOf(await filter('message_sent')), await totalOf(await filter('message_delivered')), await totalOf(await filter('message_read'))];
    assert.deepEqual(stageTotals, [10, 8, 5]);
    assert.deepEqual([kpis(campaign).message_sent, kpis(campaign).message_delivered, kpis(campaign).message_read], stageTotals);
    assert.equal(kpis(campaign)['message_read / message_delivered'], 62.5);
    assert.deepEqual(table(campaign, 'Conversion').rows, [
      ['message_sent', 10, null, 100],
      ['message_delivered', 8, 80, 80],
      ['message_read', 5, 62.5, 50],
    ]);

    // metrics: each metric's total is its /data total.
    const metricsDoc = await create('metrics', { metricIds: [events, users] });
    assert.deepEqual(Object.values(kpis(metricsDoc)), [await totalOf(events), await totalOf(users)]);

    // web_overview: the insights figures.
    const web = await create('web_overview', {});
    const figures = (await api('GET', `/insights/${acme.accountId}/metrics?${insightsRange}`, acme.read)).body.metrics;
    assert.deepEqual(
      [kpis(web).Visitors, kpis(web).Sessions, kpis(web)['Bounce rate'], kpis(web)['Session duration'], kpis(web)['Page views']],
      [figures.unique_visitors, figures.total_sessions, figures.bounce_rate, figures.avg_session_duration, figures.total_screen_views],
    );
    assert.equal(figures.total_sessions, 4);
    const pages = (await api('GET', `/insights/${acme.accountId}/pages?${insightsRange}`, acme.read)).body;
    assert.deepEqual(
      (table(web, 'Top pages').rows as unknown[][]).map((r) => [r[0], r[2]]),
      pages.map((p: { origin: string; path: string; sessions: number }) => [`${p.origin}${p.path}`, p.sessions]),
    );

    // funnel: the insights funnel.
    const funnel = await create('funnel', { steps: ['screen_view', 'checkout'], countBy: 'session' });
    const answer = (await api('POST', `/insights/${acme.accountId}/funnel`, acme.read, { steps: ['screen_view', 'checkout'], countBy: 'session', startDate: isoDay(daysAgo(7)), endDate: isoDay(daysAgo(1)) })).body;
    assert.deepEqual((table(funnel, 'Steps').rows as unknown[][]).map((r) => r[1]), answer.steps.map((s: { count: number }) => s.count));
    assert.deepEqual(answer.steps.map((s: { count: number }) => s.count), [4, 1]);

    // retention: the insights cohorts.
    const retention = await create('retention', { period: 'day', dateRange: 'last_7_days' });
    const cohorts = (await api('GET', `/insights/${acme.accountId}/retention?${insightsRange}&period=day`, acme.read)).body.cohorts;
    assert.deepEqual(
      (table(retention, 'Cohorts').rows as unknown[][]).map((r) => [r[1], r[2]]),
      cohorts.map((c: { size: number; values: number[] }) => [c.size, c.values[0]]),
    );

    // event_export: the events search finds, one row each.
    const exported = await create('event_export', { dateRange: 'last_7_days', eventName: 'message_sent' });
    const exportedRows: unknown[][] = [];
    for await (const row of table(exported, 'Events').rows as AsyncIterable<unknown[]>) exportedRows.push(row);
    const found = (await api('GET', `/api/events/search?eventName=message_sent&from=${daysAgo(7)}&to=${daysAgo(0)}&limit=1000`, acme.read)).body.events;
    assert.deepEqual(exportedRows.map((r) => r[10]), found.map((e: { eventId: string }) => e.eventId));
    assert.equal(exportedRows.length, 13);
  });

  it('generates every template in every format for an account without a single event', async () => {
    const empty = await createAccount(t.url, 'empty');
    const metric = await api('POST', '/api/metrics', empty.admin, { name: 'Logins', type: 'counter', aggregation: 'count', filters: [{ field: 'eventName', op: 'eq', value: 'login' }] });
    assert.equal(metric.status, 201, JSON.stringify(metric.body));
    const parameters: Record<string, Record<string, unknown>> = {
      campaign_performance: { campaignId: 'c1' },
      metrics: { metricIds: [metric.body.id] },
      funnel: { steps: ['signup', 'purchase'] },
    };
    const templates = (await api('GET', '/api/reports/templates', empty.read)).body.templates.map((x: { name: string }) => x.name) as string[];
    for (const template of templates) {
      for (const format of ['pdf', 'xlsx', 'csv']) {
        const r = await api('POST', '/api/reports', empty.admin, { name: `${template} ${format}`, template, parameters: parameters[template] ?? {}, format });
        assert.equal(r.status, 202, `${template} ${format}: ${JSON.stringify(r.body)}`);
        const report = await finished(r.body.report.id, empty.admin);
        assert.equal(report.runs[0].status, 'succeeded', `${template} ${format}: ${JSON.stringify(report.runs[0])}`);
        assert.ok(report.runs[0].bytes > 0, `${template} ${format} wrote a file`);
      }
    }
  });

  it('writes Excel with typed cells and CSV guarded against formulas, and both read back', async () => {
    const make = async (format: string) => {
      const r = await api('POST', '/api/reports', acme.admin, { name: 'Summary', template: 'event_summary', parameters: { dateRange: 'last_7_days' }, format });
      return (await finished(r.body.report.id)).id as string;
    };
    const download = async (id: string) => Buffer.from(await (await fetch(`${t.url}/api/reports/${id}/download`, { headers: { authorization: `Bearer ${acme.read}` } })).arrayBuffer());
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load((await download(await make("xlsx"))) as never);
    const sheets = workbook.worksheets.map((w) => w.name);
    assert.ok(sheets.includes('Top events'), sheets.join());
    const topSheet = workbook.getWorksheet('Top events')!;
    const header = topSheet.getRow(1).values as unknown[];
    const eventsColumn = header.indexOf('Events');
    assert.ok(eventsColumn > 0, JSON.stringify(header));
    const firstCount = topSheet.getRow(2).getCell(eventsColumn).value;
    assert.equal(typeof firstCount, 'number');
    assert.equal(firstCount, 13);

    const csv = (await download(await make('csv'))).toString('utf8').replace(/^\uFEFF/, '');
    const rows = parseCsv(csv) as string[][];
    assert.ok(rows.length > 1, csv);
    assert.ok(rows.some((r) => r.includes('signup 注册 регистрация 가입')), 'CJK, Cyrillic and Hangul survive');
  });

  it('refuses bad definitions naming the field, and keeps accounts apart', async () => {
    const post = (body: Record<string, unknown>, secret = acme.admin) => api('POST', '/api/reports', secret, { name: 'x', template: 'event_summary', format: 'pdf', ...body });
    const field = async (body: Record<string, unknown>) => {
      const r = await post(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      return r.body.error.details.map((d: { field: string }) => d.field);
    };
    assert.deepEqual(await field({ template: 'nope' }), ['template']);
    assert.deepEqual(await field({ format: 'docx' }), ['format']);
    assert.deepEqual(await field({ parameters: { dateRange: 'last_year' } }), ['parameters.dateRange']);
    assert.deepEqual(await field({ parameters: { colour: 'red' } }), ['parameters.colour']);
    assert.deepEqual(await field({ parameters: { filters: [{ field: 'campaignId', op: 'regex', value: '([' }] } }), ['parameters.filters[0].value']);
    assert.deepEqual(await field({ template: 'metrics', parameters: { metricIds: ['missing'] } }), ['parameters.metricIds[0]']);
    assert.deepEqual(await field({ template: 'web_overview', parameters: { filters: [{ name: 'colour', operator: 'is', value: ['x'] }] } }), ['parameters.filters[0].name']);
    assert.deepEqual(await field({ template: 'funnel', parameters: { steps: ['only-one'] } }), ['parameters.steps']);
    assert.deepEqual(await field({ schedule: { cron: '0 9 * *', timezone: 'Europe/Berlin' } }), ['schedule.cron']);
    assert.deepEqual(await field({ schedule: { cron: '0 9 * * *', timezone: 'Mars/Base' } }), ['schedule.timezone']);
    assert.deepEqual(await field({ recipients: ['not-an-email'] }), ['recipients']);
    assert.equal((await post({}, acme.read)).status, 403, 'read clients do not manage reports');

    const mine = await post({ parameters: { dateRange: 'yesterday' } });
    const id = mine.body.report.id;
    const report = await finished(id);
    assert.equal((await api('GET', `/api/reports/${id}`, other.admin)).status, 404);
    assert.equal((await api('GET', `/api/reports/${id}/download`, other.read)).status, 404);
    // ?run= names a run of this report; nothing else reaches the disk.
    for (const bad of ['../../../etc/passwd', '/etc/passwd', '..%2F..%2Fx', 'x'.repeat(50)]) {
      assert.equal((await api('GET', `/api/reports/${id}/download?run=${encodeURIComponent(bad)}`, acme.read)).status, 400, bad);
    }
    const otherReport = await post({});
    const otherRun = (await finished(otherReport.body.report.id)).runs[0].id;
    assert.equal((await api('GET', `/api/reports/${id}/download?run=${otherRun}`, acme.read)).status, 404, "another report's run");
    assert.equal((await api('GET', `/api/reports/${id}/download?run=${report.runs[0].id}`, acme.read)).status, 200);
  });

  it('runs a schedule once per time, whichever replica ticks, and makes one late run for times missed', async () => {
    const created = await api('POST', '/api/reports', acme.admin, {
      name: 'Daily',
      template: 'event_summary',
      format: 'csv',
      schedule: { cron: '0 9 * * *', timezone: 'Europe/Berlin' },
    });
    assert.equal(created.status, 201, 'schedule-only: generated at its time, not now');
    assert.equal(created.body.run, undefined);
    const id = created.body.report.id;
    const next = Date.parse(created.body.report.nextRunAt);
    assert.equal(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' }).format(new Date(next)), '09:00');
    const scheduler = t.app.get(ReportScheduler);
    // Two replicas tick at the same time: one run.
    const [a, b] = await Promise.all([scheduler.tick(next + 1000), scheduler.tick(next + 1000)]);
    assert.equal(a + b, 1);
    assert.equal(await scheduler.tick(next + 2000), 0, 'the time is done');
    let runs = (await finished(id)).runs;
    assert.equal(runs.length, 1);
    assert.equal(runs[0].trigger, 'schedule');
    assert.equal(runs[0].scheduledAt, new Date(next).toISOString());
    assert.equal(runs[0].late, false);
    // Down for three days: one run for the latest time, late, standing for the two before.
    const repo = t.app.get(ReportsRepository);
    const after = Date.parse((await api('GET', `/api/reports/${id}`, acme.read)).body.nextRunAt);
    assert.equal(after, next + DAY);
    assert.equal(await scheduler.tick(next + 3 * DAY + 3 * 3_600_000), 1);
    runs = (await finished(id)).runs;
    assert.equal(runs.length, 2);
    assert.deepEqual([runs[0].scheduledAt, runs[0].late, runs[0].missed], [new Date(next + 3 * DAY).toISOString(), true, 2]);
    assert.equal((await repo.find(acme.accountId, id))!.nextRunAt, next + 4 * DAY);
  });

  it('prunes runs older than the retention with their files', async () => {
    const r = await api('POST', '/api/reports', acme.admin, { name: 'Old', template: 'event_summary', format: 'csv' });
    const report = await finished(r.body.report.id);
    const dir = join(t.config.reports.dir, acme.accountId, r.body.report.id);
    assert.equal(readdirSync(dir).length, 1);
    const removed = await t.app.get(ReportScheduler).prune(Date.now() + (t.config.reports.retentionDays + 1) * DAY);
    assert.ok(removed >= 1);
    assert.equal((await api('GET', `/api/reports/${r.body.report.id}`, acme.read)).body.runs.length, 0);
    assert.ok(!existsSync(join(dir, readdirSync(dir)[0] ?? 'none')));
    assert.equal((await api('GET', `/api/reports/${r.body.report.id}/download?run=${report.runs[0].id}`, acme.read)).status, 404);
  });
});
