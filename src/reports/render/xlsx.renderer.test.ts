import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ExcelJS from 'exceljs';
import { wallClockMs } from './format.js';
import { exportRow, FIXTURE_NOW, FIXTURE_ZONE, MIXED_NAME, sampleReport } from './report.fixture.js';
import { renderXlsx, SheetNames } from './xlsx.renderer.js';

/** Column B by the label in column A (the first such row, or the first after the row labelled `after`). */
function labelled(sheet: ExcelJS.Worksheet, after?: string): Map<string, ExcelJS.Cell> {
  const cells = new Map<string, ExcelJS.Cell>();
  let started = after === undefined;
  sheet.eachRow((row) => {
    const label = String(row.getCell(1).value);
    if (started && !cells.has(label)) cells.set(label, row.getCell(2));
    if (label === after) started = true;
  });
  return cells;
}

const headers = (sheet: ExcelJS.Worksheet) => (sheet.getRow(1).values as ExcelJS.CellValue[]).slice(1);

/** The Date exceljs reads back for an instant: its Berlin wall time, as if it were UTC. */
const wall = (epochMs: number) => new Date(wallClockMs(epochMs, FIXTURE_ZONE));

describe('Excel renderer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'report-xlsx-'));
  const workbook = new ExcelJS.Workbook();

  before(async () => {
    const file = join(dir, 'report.xlsx');
    await renderXlsx(sampleReport(), file);
    await workbook.xlsx.readFile(file);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const sheet = (name: string) => {
    const found = workbook.getWorksheet(name);
    assert.ok(found, `sheet ${name}`);
    return found;
  };

  it('has a summary first, then a sheet per chart and table section, named uniquely', () => {
    assert.deepEqual(
      workbook.worksheets.map((s) => s.name),
      ['Summary', 'Events per day (chart)', 'Top events (chart)', 'Top events', 'Daily', 'Events'],
    );
  });

  it('summarises title, period, zone, generation time and parameters', () => {
    const summary = sheet('Summary');
    assert.equal(summary.getCell('A1').value, 'Weekly product report');
    assert.equal(summary.getCell('A1').font.bold, true);
    const rows = labelled(summary);
    assert.equal(rows.get('Period')?.value, '2026-11-01 – 2026-11-30 (in progress)');
    assert.equal(rows.get('Time zone')?.value, 'Europe/Berlin');
    const generated = rows.get('Generated (Europe/Berlin)');
    assert.deepEqual(generated?.value, wall(FIXTURE_NOW));
    assert.equal(generated?.numFmt, 'yyyy-mm-dd hh:mm');
    assert.equal(rows.get('Events')?.value, `page_view, ${MIXED_NAME}, purchase`);
  });

  it('writes KPIs as typed numbers with number formats', () => {
    const kpis = labelled(sheet('Summary'), 'KPI');
    assert.equal(kpis.get('Users')?.value, 45_210);
    assert.equal(kpis.get('Users')?.numFmt, '#,##0');
    assert.equal(kpis.get('Conversion')?.value, 0.452);
    assert.equal(kpis.get('Conversion')?.numFmt, '0.00%');
    assert.equal(kpis.get('Events per user')?.value, 27.3076);
    assert.equal(kpis.get('Events per user')?.numFmt, '#,##0.00');
    // A duration is an Excel duration (days); exceljs reads a time format back as a Date.
    const session = kpis.get('Avg. session');
    assert.equal(session?.numFmt, '[h]:mm:ss');
    assert.deepEqual(session?.value, new Date(Date.UTC(1899, 11, 30, 0, 4, 5)));
    assert.equal(kpis.get('Bounce rate')?.value, null);
  });

  it('types table cells: numbers, percentages, wall-time dates; text stays text', () => {
    const top = sheet('Top events');
    assert.deepEqual(headers(top), ['Event', 'Events', 'Share', 'Avg. duration', 'Change', 'Last seen (Europe/Berlin)']);
    const mixed = top.getRow(3);
    assert.equal(mixed.getCell(1).value, MIXED_NAME);
    assert.equal(mixed.getCell(2).value, 120_456);
    assert.equal(mixed.getCell(2).numFmt, '#,##0');
    assert.equal(mixed.getCell(3).value, 0.0976);
    assert.equal(mixed.getCell(5).value, -5);
    assert.equal(mixed.getCell(5).type, ExcelJS.ValueType.Number);
    assert.deepEqual(mixed.getCell(6).value, wall(FIXTURE_NOW - 3_600_000));
    assert.equal(mixed.getCell(6).numFmt, 'yyyy-mm-dd hh:mm:ss');
    // "=1+2" is a string cell, not a formula.
    const formula = top.getRow(7).getCell(1);
    assert.equal(formula.value, '=1+2');
    assert.equal(formula.type, ExcelJS.ValueType.String);
    assert.equal(top.getRow(7).getCell(4).value, null);
  });

  it('freezes a bold header row, sizes columns and sets an autofilter', () => {
    for (const name of ['Top events', 'Daily', 'Events', 'Events per day (chart)']) {
      const s = sheet(name);
      assert.equal(s.views[0]?.state, 'frozen', name);
      assert.equal((s.views[0] as ExcelJS.WorksheetViewFrozen).ySplit, 1, name);
      assert.equal(s.getRow(1).getCell(1).font.bold, true, name);
    }
    assert.equal(sheet('Top events').autoFilter, 'A1:F8');
    assert.equal(sheet('Events').autoFilter, 'A1:D2001');
    const widths = sheet('Top events').columns.map((c) => c.width ?? 9);
    assert.equal(widths[0], 60, 'a long text column is capped');
    assert.ok(widths.every((w) => w >= 8 && w <= 60));
  });

  it('marks the in-progress day, with dates as local calendar days', () => {
    const daily = sheet('Daily');
    assert.equal(daily.getCell('A1').value, 'Day (Europe/Berlin)');
    assert.equal(daily.getCell('E1').value, 'Note');
    assert.deepEqual(daily.getCell('A2').value, new Date(Date.UTC(2026, 10, 1)));
    assert.equal(daily.getCell('A2').numFmt, 'yyyy-mm-dd');
    assert.equal(daily.getCell('E31').value, 'in progress');
    assert.equal(daily.getCell('E30').value, null);
    assert.equal(daily.rowCount, 31);
  });

  it('streams the async-iterable table row for row', () => {
    const events = sheet('Events');
    assert.equal(events.rowCount, 2001);
    for (const i of [0, 1, 5, 999, 1999]) {
      const [time, event, user, value] = exportRow(i);
      const row = events.getRow(i + 2);
      assert.deepEqual(row.getCell(1).value, wall(time as number));
      assert.equal(row.getCell(2).value, event);
      assert.equal(row.getCell(3).value, user);
      assert.equal(row.getCell(4).value, value);
    }
  });

  it('puts a chart’s data on its own sheet', () => {
    const chart = sheet('Events per day (chart)');
    assert.deepEqual(headers(chart), ['Category', 'signup 注册', 'purchase', 'Note']);
    assert.equal(chart.getCell('A2').value, '2026-11-01');
    assert.equal(typeof chart.getCell('B2').value, 'number');
    assert.equal(chart.getCell('D31').value, 'in progress');
  });
});

describe('Excel sheet names', () => {
  it('drops invalid characters, cuts to 31 and keeps names unique ignoring case', () => {
    const names = new SheetNames();
    assert.equal(names.take('Summary'), 'Summary');
    assert.equal(names.take('summary'), 'summary (2)');
    assert.equal(names.take('a/b:c*d?e[f]g\\h'), 'a b c d e f g h');
    const long = 'An extremely long table name that goes on';
    assert.equal(names.take(long), 'An extremely long table name th');
    assert.equal(names.take(long), 'An extremely long table nam (2)');
    assert.equal(names.take("'quoted'"), 'quoted');
    assert.equal(names.take('History'), 'History sheet');
    assert.equal(names.take('  '), 'Sheet');
  });
});
