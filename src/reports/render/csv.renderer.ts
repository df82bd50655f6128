/**
 * The report's main table as CSV (RFC 4180: comma-separated, CRLF line ends, fields quoted
 * when they hold a comma, a quote or a line break; UTF-8), streamed with backpressure so a
 * table of any length is written in bounded memory.
 *
 * - Which table: the first table section, or the `table`-th (0-based among table sections).
 *   A report with no table gives the data of its first chart (category, one column per series).
 * - Byte order mark: on by default. Excel opens a BOM-less UTF-8 CSV as the local code page and
 *   garbles CJK, Cyrillic and Hangul; csv parsers and spreadsheets that know UTF-8 skip it
 *   (csv-parse `bom: true`, pandas `utf-8-sig`). `bom: false` for consumers that do not.
 * - Numbers are written exactly as the report holds them (no thousands separators, no rounding;
 *   percentages as the number of percent, 45.2; durations in seconds).
 * - Instants: 'datetime' as ISO 8601 with the report zone's offset (2026-11-30T14:05:00+01:00);
 *   'date' as the local calendar date (2026-11-30), the header naming the zone ("Day
 *   (Europe/Berlin)") — a day has no offset of its own.
 * - Text cells (never numbers) that start with =, +, -, @, a tab or a carriage return get a
 *   leading ' so a spreadsheet does not run them as formulas (CSV injection); -5 as a number
 *   stays -5.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { CellValue, ReportDocument, ReportTable, ValueUnit } from '../report-document.js';
import { chartTable } from './chart-table.js';
import { formatDate, headerWithZone, isoWithOffset } from './format.js';
import { openTarget, type RenderTarget } from './output.js';

export interface CsvRenderOptions {
  /** Which table section to write, 0-based among the table sections (default 0). */
  table?: number;
  /** Start with a UTF-8 byte order mark (default true, for Excel). */
  bom?: boolean;
}

export async function renderCsv(report: ReportDocument, target: RenderTarget, options: CsvRenderOptions = {}): Promise<void> {
  const table = csvTable(report, options.table ?? 0);
  const { stream } = openTarget(target);
  const timeZone = report.timezone;

  async function* records(): AsyncIterable<string[]> {
    yield table.columns.map((column) => guardFormula(headerWithZone(column.label, column.unit, timeZone)));
    for await (const row of table.rows) {
      yield table.columns.map((column, c) => csvField(row[c], column.unit, timeZone));
    }
  }

  await pipeline(
    Readable.from(records()),
    stringify({ bom: options.bom ?? true, record_delimiter: 'windows' }),
    stream,
  );
}

/** The table a CSV of the report holds (see the module comment). */
export function csvTable(report: ReportDocument, index: number): ReportTable {
  const tables = report.sections.flatMap((section) => (section.kind === 'table' ? [section.table] : []));
  if (tables.length > 0) {
    const table = tables[index];
    if (!table) throw new RangeError(`The report has ${tables.length} table(s); there is no table ${index}`);
    return table;
  }
  const chart = report.sections.find((section) => section.kind === 'chart');
  if (chart && index === 0) return chartTable(chart.chart);
  throw new RangeError('The report has no table (and no chart) to write as CSV');
}

/** One field's text. */
export function csvField(value: CellValue | undefined, unit: ValueUnit, timeZone: string): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return guardFormula(value);
  if (unit === 'datetime') return isoWithOffset(value, timeZone);
  if (unit === 'date') return formatDate(value, timeZone);
  return String(value);
}

/** Text a spreadsheet would read as a formula gets a leading apostrophe. */
export function guardFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}
