/**
 * A report as an Excel workbook, written as it streams (exceljs' streaming WorkbookWriter,
 * inline strings, rows committed one by one): a "Summary" sheet (title, period, time zone,
 * generation time, parameters, KPIs), then a sheet per table section and per chart section (the
 * chart's data; exceljs cannot make native charts).
 *
 * Cells are typed: numbers are numbers with a number format, instants are Excel dates holding
 * the wall time of the report's zone (Excel has no zones; the header names the zone, "Day
 * (Europe/Berlin)"). Percentages are stored as fractions (45.2 → 0.452, shown "45.20%"), so a
 * formula over them computes with what the cell says; durations as Excel durations (days, shown
 * "[h]:mm:ss"); everything else exactly as the report holds it.
 */
import type { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import ExcelJS from 'exceljs';
import type { CellValue, ReportDocument, ReportTable, TableColumn, ValueUnit } from '../report-document.js';
import { chartTable } from './chart-table.js';
import { formatValue, headerWithZone, IN_PROGRESS, periodText, wallClockMs } from './format.js';
import { drained, openTarget, type RenderTarget } from './output.js';
import { peekRows } from './rows.js';

/** Excel number formats by unit (stored values: see `cellValue`). */
export const XLSX_NUMBER_FORMATS: Record<ValueUnit, string | undefined> = {
  count: '#,##0',
  // "#,##0.##" would leave a dangling "." after whole numbers ("1,204."); two decimals always.
  number: '#,##0.00',
  percent: '0.00%',
  seconds: '[h]:mm:ss',
  date: 'yyyy-mm-dd',
  datetime: 'yyyy-mm-dd hh:mm:ss',
  text: undefined,
};

const SUMMARY = 'Summary';
/**
 * exceljs hands rows to the zip without backpressure: the XML of rows written while the zip
 * has no turn of the event loop piles up in memory. Giving it a turn every so many rows (and
 * waiting while the target is slower than the zip) keeps that pile to about one batch.
 */
const YIELD_EVERY = 100;
/** Rows looked at ahead of writing to size a sheet's columns. */
const SIZING_ROWS = 100;
const MIN_WIDTH = 8;
const MAX_WIDTH = 60;

const HEADER_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8EDF4' } };
const IN_PROGRESS_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFF4E0' } };

type Workbook = ExcelJS.stream.xlsx.WorkbookWriter;

export async function renderXlsx(report: ReportDocument, target: RenderTarget): Promise<void> {
  const { stream, done } = openTarget(target);
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream, useStyles: true, useSharedStrings: false });
  workbook.creator = 'analytics-service reports';
  workbook.created = new Date(report.generatedAt);
  workbook.modified = new Date(report.generatedAt);

  const names = new SheetNames();
  names.take(SUMMARY);
  // Sheet names are chosen up front so the summary can list them.
  const sheets = report.sections.map((section) =>
    section.kind === 'table' ? names.take(section.table.name || section.title) : section.kind === 'chart' ? names.take(`${section.title} (chart)`) : null,
  );

  try {
    writeSummary(workbook, report, sheets);
    for (const [i, section] of report.sections.entries()) {
      const name = sheets[i];
      if (name === null) continue;
      if (section.kind === 'table') {
        const row = section.table.inProgressRow;
        await writeTable(workbook, stream, name, section.table, report.timezone, row === undefined ? null : (n) => n === row);
      } else if (section.kind === 'chart') {
        const from = section.chart.inProgressFrom;
        await writeTable(workbook, stream, name, chartTable(section.chart), report.timezone, from === undefined ? null : (n) => n >= from);
      }
    }
    await workbook.commit();
  } catch (error) {
    stream.destroy(error as Error);
    throw error;
  }
  await done;
}

/** A cell's stored value for its unit (see the module comment). */
export function cellValue(value: CellValue | undefined, unit: ValueUnit, timeZone: string): ExcelJS.CellValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  switch (unit) {
    case 'percent':
      return excelPrecision(value / 100);
    case 'seconds':
      return excelPrecision(value / 86_400);
    case 'date':
    case 'datetime':
      // Excel reads a date as the wall time it shows: the zone's wall time, encoded as UTC.
      return new Date(wallClockMs(value, timeZone));
    default:
      return value;
  }
}

/** A quotient to Excel's 15 significant digits, so 65.8 % is stored 0.658, not 0.6579999999999999. */
function excelPrecision(value: number): number {
  return Number.isFinite(value) ? Number(value.toPrecision(15)) : value;
}

function writeSummary(workbook: Workbook, report: ReportDocument, sheets: (string | null)[]): void {
  const sheet = workbook.addWorksheet(SUMMARY, { views: [{ showGridLines: false }] });
  sheet.columns = [{ width: 30 }, { width: 24 }, { width: 48 }];
  const add = (values: ExcelJS.CellValue[], style?: (row: ExcelJS.Row) => void) => {
    const row = sheet.addRow(values);
    style?.(row);
    row.commit();
  };
  const label = (row: ExcelJS.Row) => {
    row.getCell(1).font = { bold: true, color: { argb: 'FF4B5563' } };
  };

  add([report.title], (row) => (row.getCell(1).font = { bold: true, size: 16 }));
  add([report.subtitle], (row) => (row.getCell(1).font = { italic: true, color: { argb: 'FF6B7280' } }));
  add([]);
  add(['Period', periodText(report.period)], label);
  add(['Time zone', report.timezone], label);
  add([headerWithZone('Generated', 'datetime', report.timezone), cellValue(report.generatedAt, 'datetime', report.timezone)], (row) => {
    label(row);
    row.getCell(2).numFmt = 'yyyy-mm-dd hh:mm';
    row.getCell(2).alignment = { horizontal: 'left' };
  });
  for (const parameter of report.parameters) add([parameter.label, parameter.value], label);

  for (const section of report.sections) {
    if (section.kind !== 'kpis') continue;
    add([]);
    add([section.title], (row) => (row.getCell(1).font = { bold: true, size: 12 }));
    add(['KPI', 'Value', 'Note'], (row) => headerStyle(row, 3));
    for (const kpi of section.kpis) {
      add([kpi.label, cellValue(kpi.value, kpi.unit, report.timezone), kpi.note ?? null], (row) => {
        const format = XLSX_NUMBER_FORMATS[kpi.unit];
        if (format) row.getCell(2).numFmt = format;
        if (kpi.note?.includes(IN_PROGRESS)) row.getCell(3).font = { color: { argb: 'FFB45309' } };
      });
    }
  }

  const listed = report.sections.map((section, i) => ({ section, sheet: sheets[i] })).filter((s) => s.sheet !== null);
  if (listed.length > 0) {
    add([]);
    add(['Sheets'], (row) => (row.getCell(1).font = { bold: true, size: 12 }));
    for (const { section, sheet: name } of listed) add([name, section.kind === 'chart' ? 'chart data' : 'table', section.title]);
  }
  sheet.commit();
}

/** `inProgress` says which rows are not over yet; when given, a last "Note" column marks them. */
async function writeTable(
  workbook: Workbook,
  target: Writable,
  name: string,
  table: ReportTable,
  timeZone: string,
  inProgress: ((index: number) => boolean) | null,
): Promise<void> {
  const { columns } = table;
  const marked = inProgress !== null;
  const headers = columns.map((column) => headerWithZone(column.label, column.unit, timeZone));
  if (marked) headers.push('Note');

  const { head, all } = await peekRows(table.rows, SIZING_ROWS);
  const sheet = workbook.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
  // Widths are written before the first row, so they come from the header and the first rows.
  sheet.columns = columnWidths(columns, headers, head, timeZone).map((width) => ({ width }));
  head.length = 0;

  const header = sheet.addRow(headers);
  headerStyle(header, headers.length);
  header.commit();

  let index = 0;
  for await (const values of all) {
    const row = sheet.addRow([
      ...columns.map((column, c) => cellValue(values[c], column.unit, timeZone)),
      ...(marked ? [inProgress(index) ? IN_PROGRESS : null] : []),
    ]);
    columns.forEach((column, c) => {
      const format = XLSX_NUMBER_FORMATS[column.unit];
      if (format && values[c] !== null && typeof values[c] === 'number') row.getCell(c + 1).numFmt = format;
    });
    if (inProgress?.(index)) {
      for (let c = 1; c <= headers.length; c++) {
        row.getCell(c).fill = IN_PROGRESS_FILL;
        row.getCell(c).font = { italic: true };
      }
    }
    row.commit();
    index++;
    if (index % YIELD_EVERY === 0) await flowControl(target);
  }
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: index + 1, column: headers.length } };
  sheet.commit();
}

async function flowControl(target: Writable): Promise<void> {
  await nextTurn();
  await drained(target);
}

function headerStyle(row: ExcelJS.Row, cells: number): void {
  row.font = { bold: true };
  for (let c = 1; c <= cells; c++) {
    const cell = row.getCell(c);
    cell.font = { bold: true };
    cell.fill = HEADER_FILL;
    cell.border = { bottom: { style: 'thin', color: { argb: 'FF9CA3AF' } } };
  }
}

/** Column widths in characters from the header and the first rows, within [8, 60]. */
function columnWidths(columns: TableColumn[], headers: string[], head: CellValue[][], timeZone: string): number[] {
  return headers.map((header, c) => {
    let widest = displayWidth(header);
    const column = columns[c];
    if (column) {
      for (const row of head) widest = Math.max(widest, displayWidth(formatValue(row[c], column.unit, timeZone)));
    }
    return Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, widest + 2));
  });
}

/** Characters as Excel's column width counts them: Han, kana, Hangul and full-width forms take two. */
function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    width += /[\p{Script=Han}\p{Script=Hangul}\p{Script=Hiragana}\p{Script=Katakana}\u3000-\u303f\uff00-\uff60]/u.test(ch) ? 2 : 1;
  }
  return width;
}

/**
 * Excel's sheet-name rules: at most 31 characters, none of []:*?/\, not starting or ending with
 * an apostrophe, not "History", and unique ignoring case. A name that is taken gets " (2)", " (3)"…
 */
export class SheetNames {
  private readonly taken = new Set<string>();

  take(wanted: string): string {
    let base = wanted.replace(/[[\]:*?/\\\u0000-\u001f]/g, ' ').replace(/\s+/g, ' ').trim().replace(/^'+|'+$/g, '').trim();
    if (!base || base.toLowerCase() === 'history') base = base ? `${base} sheet` : 'Sheet';
    for (let n = 1; ; n++) {
      const suffix = n === 1 ? '' : ` (${n})`;
      const name = [...base].slice(0, 31 - suffix.length).join('').trimEnd() + suffix;
      if (!this.taken.has(name.toLowerCase())) {
        this.taken.add(name.toLowerCase());
        return name;
      }
    }
  }
}
