import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { csvField, guardFormula, renderCsv } from './csv.renderer.js';
import type { ReportDocument } from '../report-document.js';
import { exportRow, FIXTURE_NOW, sampleReport, TOP_EVENTS_ROWS } from './report.fixture.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

describe('CSV renderer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'report-csv-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function render(report: ReportDocument, options?: Parameters<typeof renderCsv>[2]): Promise<Buffer> {
    const file = join(dir, `${Math.random().toString(36).slice(2)}.csv`);
    await renderCsv(report, file, options);
    return readFileSync(file);
  }

  it('writes the first table: a header, exact numbers, ISO instants with the zone offset, guarded formulas', async () => {
    const bytes = await render(sampleReport());
    assert.deepEqual(bytes.subarray(0, 3), BOM, 'a BOM by default');
    const records = parse(bytes, { bom: true }) as string[][];
    assert.deepEqual(records[0], ['Event', 'Events', 'Share', 'Avg. duration', 'Change', 'Last seen (Europe/Berlin)']);
    assert.equal(records.length, TOP_EVENTS_ROWS.length + 1);
    assert.deepEqual(records[1], ['page_view', '812345', '65.8', '12.5', '1204', '2026-11-30T14:04:00+01:00']);
    assert.deepEqual(records[2], ['signup 注册 регистрация 가입', '120456', '9.76', '245', '-5', '2026-11-30T13:05:00+01:00']);
    assert.deepEqual(records[6], ["'=1+2", '1234', '0.1', '', '', '']);
    assert.equal(records[7][2], '0.003');
    assert.equal(records[7][4], '7.125');
    // Every field of the data, read back, is the report's value (numbers exactly).
    TOP_EVENTS_ROWS.forEach((row, r) => {
      assert.equal(Number(records[r + 1][1]), row[1]);
      assert.equal(Number(records[r + 1][2]), row[2]);
    });
  });

  it('ends records with CRLF and quotes only fields that need it (RFC 4180)', async () => {
    const report = sampleReport();
    report.sections = [
      {
        kind: 'table',
        title: 't',
        table: {
          name: 't',
          columns: [{ key: 'a', label: 'Name, full', unit: 'text' }, { key: 'b', label: 'n', unit: 'count' }],
          rows: [['say "hi"\nagain', 1]],
        },
      },
    ];
    const text = (await render(report, { bom: false })).toString('utf8');
    assert.equal(text, '"Name, full",n\r\n"say ""hi""\nagain",1\r\n');
  });

  it('leaves the BOM out on request', async () => {
    const bytes = await render(sampleReport(), { bom: false });
    assert.equal(bytes.subarray(0, 5).toString('utf8'), 'Event');
  });

  it('writes another table when asked, streaming an async iterable', async () => {
    const records = parse(await render(sampleReport(), { table: 2 }), { bom: true }) as string[][];
    assert.deepEqual(records[0], ['Time (Europe/Berlin)', 'Event', 'User', 'Value']);
    assert.equal(records.length, 2001);
    assert.deepEqual(records[1], ['2026-11-01T00:00:00+01:00', 'page_view', 'user-0', '-0.25']);
    for (const i of [1, 5, 6, 1999]) {
      const [, event, user, value] = exportRow(i);
      const expectedEvent = /^[-@]/.test(String(event)) ? `'${event}` : event;
      assert.deepEqual(records[i + 1].slice(1), [expectedEvent, user, String(value)]);
    }
    assert.equal(records[6][1], "'-refund");
    assert.equal(records[7][1], "'@mention");
    const daily = parse(await render(sampleReport(), { table: 1 }), { bom: true }) as string[][];
    assert.deepEqual(daily[1], ['2026-11-01', '948', '347', '36.6']);
    await assert.rejects(render(sampleReport(), { table: 3 }), /no table 3/);
  });

  it('falls back to the first chart’s data when the report has no table', async () => {
    const report = sampleReport();
    report.sections = report.sections.filter((s) => s.kind !== 'table');
    const records = parse(await render(report), { bom: true }) as string[][];
    assert.deepEqual(records[0], ['Category', 'signup 注册', 'purchase']);
    assert.equal(records.length, 31);
  });

  it('writes to any Writable and ends it', async () => {
    const target = new PassThrough();
    const chunks: Buffer[] = [];
    target.on('data', (chunk: Buffer) => chunks.push(chunk));
    await renderCsv(sampleReport(), target, { bom: false });
    assert.equal(target.writableEnded, true);
    assert.match(Buffer.concat(chunks).toString('utf8'), /^Event,Events,/);
  });
});

describe('CSV fields', () => {
  it('guards text that a spreadsheet would run as a formula, never numbers', () => {
    for (const risky of ['=1+2', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) assert.equal(guardFormula(risky), `'${risky}`);
    assert.equal(guardFormula('page_view'), 'page_view');
    assert.equal(csvField(-5, 'number', 'UTC'), '-5');
    assert.equal(csvField('-5', 'text', 'UTC'), "'-5");
    assert.equal(csvField(0.1 + 0.2, 'number', 'UTC'), '0.30000000000000004');
    assert.equal(csvField(null, 'count', 'UTC'), '');
    assert.equal(csvField(FIXTURE_NOW, 'datetime', 'Asia/Kolkata'), '2026-11-30T18:35:00+05:30');
    assert.equal(csvField(FIXTURE_NOW, 'date', 'Pacific/Kiritimati'), '2026-12-01');
  });
});
