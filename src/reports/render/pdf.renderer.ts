/**
 * A report as an A4 PDF (pdfkit): a title block, KPI tiles, charts as vectors, tables whose
 * header row repeats on every page they cross, and "Page n of m" with the title in every
 * footer. Text is in the bundled Noto Sans fonts (embedded, subset by pdfkit), never in the
 * standard 14 fonts.
 *
 * Tables stream: rows are drawn as they arrive, so a long export is never held in memory.
 * Page numbers "of m" need every page kept until the total is known (pdfkit's bufferPages), and
 * a kept page of table rows costs about 33 KB (measured, after `compactPageContent`; 440 KB
 * before): up to `maxBufferedPages` (500, some 18,000 table rows, ~17 MB) pages are kept and
 * numbered "Page n of m". A longer report stops keeping them — the kept pages are numbered,
 * written out, and from then on each page is written as soon as it is finished — and reads
 * "Page n" throughout, so memory stays flat whatever the row count.
 */
import type { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import PDFDocument from 'pdfkit';
import { chartHeightFor } from '../charts/chart-svg.js';
import { FONT_FILES } from '../fonts.js';
import type {
  CellValue,
  ChartSection,
  KpiSection,
  ReportDocument,
  TableColumn,
  TableSection,
} from '../report-document.js';
import {
  formatValue,
  generatedText,
  IN_PROGRESS,
  isNumericUnit,
  isTimeUnit,
} from './format.js';
import { type RenderTarget, openTarget } from './output.js';
import { drawChart } from './pdf-chart.js';
import { lineHeight, PdfText, type TextStyle } from './pdf-text.js';
import { peekRows } from './rows.js';

export interface PdfRenderOptions {
  /**
   * Pages kept in memory so the footer can say "of m" (default 500; a table page holds about
   * 37 rows). A longer report is numbered "Page n" and written out page by page.
   */
  maxBufferedPages?: number;
}

type Doc = InstanceType<typeof PDFDocument>;

/**
 * Rows of one table a PDF shows: some 140 pages. A PDF is for reading; a longer table (an event
 * export) is cut with a note, and its CSV or Excel format holds every row, streamed.
 */
export const PDF_MAX_TABLE_ROWS = 5000;

// A4 in points, and the layout.
const PAGE_WIDTH = 595.28;
const PAGE_HEIGHT = 841.89;
const MARGIN_X = 42;
const TOP = 48;
const BOTTOM = PAGE_HEIGHT - 58;
const FOOTER_Y = PAGE_HEIGHT - 40;
const CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X;
const RIGHT = MARGIN_X + CONTENT_WIDTH;

const COLOR = {
  text: '#111827',
  muted: '#6b7280',
  rule: '#d1d5db',
  tileFill: '#f5f7fa',
  tileBorder: '#e5e7eb',
  headerFill: '#e8edf4',
  zebra: '#f7f9fc',
  inProgressFill: '#fff4e0',
  inProgress: '#b45309',
};

const CELL = { size: 8.5, padX: 5, padY: 3.5, maxLines: 2 };
/** The smallest text size a table is set in to fit the page width. */
const MIN_CELL_SIZE = 6.5;
const SECTION_STYLE: TextStyle = { size: 12.5, bold: true, color: COLOR.text };
/** A wide value of each unit: a column is at least this wide. */
const WIDE_VALUE: Record<TableColumn['unit'], string> = {
  count: '9,999,999',
  number: '-99,999.99',
  percent: '100.0 %',
  seconds: '59m 59s',
  date: '2026-12-31',
  datetime: '2026-12-31 23:59',
  text: '',
};
/** Rows looked at ahead of drawing to size a table's columns. */
const SIZING_ROWS = 50;
/** Bytes of finished PDF waiting for a slow target before drawing pauses. */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;

export async function renderPdf(report: ReportDocument, target: RenderTarget, options: PdfRenderOptions = {}): Promise<void> {
  const { stream, done } = openTarget(target);
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: TOP, bottom: PAGE_HEIGHT - BOTTOM, left: MARGIN_X, right: MARGIN_X },
    bufferPages: true,
    // The default font is a bundled one, so pdfkit never loads Helvetica.
    font: FONT_FILES.sc.regular,
    displayTitle: true,
    info: {
      Title: report.title,
      Subject: report.subtitle,
      Creator: 'analytics-service reports',
      CreationDate: new Date(report.generatedAt),
    },
  });
  doc.pipe(stream);
  try {
    await new PdfReportWriter(doc, stream, report, options.maxBufferedPages ?? 500).write();
  } catch (error) {
    stream.destroy(error as Error);
    throw error;
  }
  doc.end();
  await done;
}

class PdfReportWriter {
  private readonly text: PdfText;
  private y = TOP;
  private page = 1;
  /** Past maxBufferedPages: pages are written as they are finished, numbered without a total. */
  private streaming = false;

  constructor(
    private readonly doc: Doc,
    private readonly target: Writable,
    private readonly report: ReportDocument,
    private readonly maxBufferedPages: number,
  ) {
    this.text = new PdfText(doc);
  }

  async write(): Promise<void> {
    this.titleBlock();
    for (const section of this.report.sections) {
      if (section.kind === 'kpis') await this.kpis(section);
      else if (section.kind === 'chart') await this.chart(section);
      else await this.table(section);
    }
    this.finishPages();
  }

  // ---- pages ------------------------------------------------------------------------------

  private async newPage(): Promise<void> {
    compactPageContent(this.doc.page);
    if (!this.streaming && this.doc.bufferedPageRange().count >= this.maxBufferedPages) {
      // Too long to keep every page for "of m": number the kept pages "Page n" and let them go.
      this.streaming = true;
      const { start, count } = this.doc.bufferedPageRange();
      for (let i = start; i < start + count; i++) {
        this.doc.switchToPage(i);
        this.footer(i + 1, null);
      }
      this.doc.flushPages();
    } else if (this.streaming) {
      this.footer(this.page, null);
      this.doc.flushPages();
    }
    this.doc.addPage();
    this.page++;
    this.y = TOP;
    await this.flowControl();
  }

  /** Lets the target catch up when finished pages pile up (a slow disk or client). */
  private async flowControl(): Promise<void> {
    await nextTurn();
    while (this.doc.readableLength > MAX_PENDING_BYTES) {
      if (this.target.destroyed) throw new Error('The PDF target was closed before the report was written');
      await nextTurn();
    }
  }

  /** Ensures `height` points are left on the page, starting a new one if not. */
  private async room(height: number): Promise<void> {
    if (this.y + height > BOTTOM && this.y > TOP) await this.newPage();
  }

  private finishPages(): void {
    if (this.streaming) {
      this.footer(this.page, null);
      return;
    }
    const { start, count } = this.doc.bufferedPageRange();
    for (let i = start; i < start + count; i++) {
      this.doc.switchToPage(i);
      this.footer(i + 1, count);
    }
  }

  private footer(page: number, total: number | null): void {
    const style: TextStyle = { size: 7.5, color: COLOR.muted };
    this.doc.moveTo(MARGIN_X, FOOTER_Y - 6).lineTo(RIGHT, FOOTER_Y - 6).lineWidth(0.5).strokeColor(COLOR.rule).stroke();
    const number = total === null ? `Page ${page}` : `Page ${page} of ${total}`;
    this.text.drawRight(number, RIGHT, FOOTER_Y, style);
    this.text.draw(this.text.ellipsize(this.report.title, CONTENT_WIDTH * 0.7, style), MARGIN_X, FOOTER_Y, style);
  }

  // ---- title block ------------------------------------------------------------------------

  private titleBlock(): void {
    const { report } = this;
    const titleStyle: TextStyle = { size: 20, bold: true };
    for (const line of this.text.wrap(report.title, CONTENT_WIDTH, titleStyle, 3)) {
      this.text.draw(line, MARGIN_X, this.y, titleStyle);
      this.y += lineHeight(20) * 0.95;
    }
    if (report.subtitle) {
      const style: TextStyle = { size: 11, color: COLOR.muted };
      this.text.draw(this.text.ellipsize(report.subtitle, CONTENT_WIDTH, style), MARGIN_X, this.y, style);
      this.y += lineHeight(11) + 6;
    }

    // The period's dates are local dates of the report's zone: say which.
    const periodLabel = `${report.period.label} (${report.timezone})`;
    this.labelled('Period', periodLabel);
    if (report.period.inProgress) {
      // A pill after the period's text: the figures are partial.
      const style: TextStyle = { size: 7.5, bold: true, color: COLOR.inProgress };
      const x = MARGIN_X + 86 + this.text.width(periodLabel, { size: 9.5 }) + 8;
      const y = this.y - lineHeight(9.5) - 2;
      const width = this.text.width(IN_PROGRESS, style) + 10;
      this.doc.roundedRect(x, y + 2.5, width, lineHeight(7.5) + 1, 5).fillColor(COLOR.inProgressFill).fill();
      this.text.draw(IN_PROGRESS, x + 5, y + 3.5, style);
    }
    for (const parameter of report.parameters) this.labelled(parameter.label, parameter.value);

    const style: TextStyle = { size: 8.5, color: COLOR.muted };
    this.y += 2;
    this.text.draw(generatedText(report), MARGIN_X, this.y, style);
    this.y += lineHeight(8.5) + 8;
    this.rule();
    this.y += 14;
  }

  /** "Label   value" with the value wrapped in its column. */
  private labelled(label: string, value: string): void {
    const labelStyle: TextStyle = { size: 9.5, bold: true, color: COLOR.muted };
    const valueStyle: TextStyle = { size: 9.5 };
    const labelWidth = 86;
    this.text.draw(this.text.ellipsize(label, labelWidth - 6, labelStyle), MARGIN_X, this.y, labelStyle);
    for (const line of this.text.wrap(value, CONTENT_WIDTH - labelWidth, valueStyle, 4)) {
      this.text.draw(line, MARGIN_X + labelWidth, this.y, valueStyle);
      this.y += lineHeight(9.5);
    }
  }

  private rule(): void {
    this.doc.moveTo(MARGIN_X, this.y).lineTo(RIGHT, this.y).lineWidth(0.75).strokeColor(COLOR.rule).stroke();
  }

  private sectionTitle(title: string): void {
    this.text.draw(this.text.ellipsize(title, CONTENT_WIDTH, SECTION_STYLE), MARGIN_X, this.y, SECTION_STYLE);
    this.y += lineHeight(SECTION_STYLE.size) + 4;
  }

  // ---- KPIs -------------------------------------------------------------------------------

  private async kpis(section: KpiSection): Promise<void> {
    const { kpis } = section;
    if (kpis.length === 0) return;
    const columns = kpis.length <= 4 ? kpis.length : kpis.length % 4 === 0 ? 4 : 3;
    const gap = 10;
    const width = (CONTENT_WIDTH - gap * (columns - 1)) / columns;
    const height = 70;
    await this.room(lineHeight(SECTION_STYLE.size) + 4 + height);
    this.sectionTitle(section.title);
    for (let i = 0; i < kpis.length; i += columns) {
      await this.room(height);
      kpis.slice(i, i + columns).forEach((kpi, j) => {
        const x = MARGIN_X + j * (width + gap);
        const y = this.y;
        this.doc.roundedRect(x, y, width, height, 4).lineWidth(0.75).fillAndStroke(COLOR.tileFill, COLOR.tileBorder);
        const inner = width - 20;
        const labelStyle: TextStyle = { size: 8.5, color: COLOR.muted };
        this.text.draw(this.text.ellipsize(kpi.label, inner, labelStyle), x + 10, y + 8, labelStyle);
        const value = formatValue(kpi.value, kpi.unit, this.report.timezone);
        // The biggest size at which the value fits its tile.
        const size = [19, 16, 13, 11].find((s) => this.text.width(value, { size: s, bold: true }) <= inner) ?? 11;
        this.text.draw(this.text.ellipsize(value, inner, { size, bold: true }), x + 10, y + 22 + (19 - size) / 2, { size, bold: true });
        if (kpi.note) {
          const noteStyle: TextStyle = {
            size: 7.5,
            color: kpi.note.includes(IN_PROGRESS) ? COLOR.inProgress : COLOR.muted,
          };
          this.text.draw(this.text.ellipsize(kpi.note, inner, noteStyle), x + 10, y + 50, noteStyle);
        }
      });
      this.y += height + gap;
    }
    this.y += 8;
  }

  // ---- charts -----------------------------------------------------------------------------

  private async chart(section: ChartSection): Promise<void> {
    const height = chartHeightFor(section.chart, CONTENT_WIDTH);
    await this.room(lineHeight(SECTION_STYLE.size) + 4 + height);
    this.sectionTitle(section.title);
    drawChart(this.doc, section.chart, { x: MARGIN_X, y: this.y, width: CONTENT_WIDTH, height });
    this.y += height + 18;
  }

  // ---- tables -----------------------------------------------------------------------------

  private async table(section: TableSection): Promise<void> {
    const { columns, inProgressRow } = section.table;
    const { head, all } = await peekRows(section.table.rows, SIZING_ROWS);
    const layout = this.tableLayout(columns, head);
    head.length = 0;

    await this.room(lineHeight(SECTION_STYLE.size) + 4 + this.headerHeight(layout) + layout.rowHeight);
    this.sectionTitle(section.title);
    this.headerRow(layout);

    let index = 0;
    let cut = false;
    for await (const row of all) {
      if (index === PDF_MAX_TABLE_ROWS) {
        // Leaving the loop ends the source (a store query stops paging).
        cut = true;
        break;
      }
      const cells = columns.map((column, c) => {
        let text = formatValue(row[c], column.unit, this.report.timezone);
        if (c === 0 && index === inProgressRow) text += ` (${IN_PROGRESS})`;
        const inner = layout.widths[c] - 2 * CELL.padX;
        return isNumericUnit(column.unit) || isTimeUnit(column.unit)
          ? [this.text.ellipsize(text, inner, { size: this.fittingSize(text, inner, layout.size) })]
          : this.text.wrap(text, inner, layout.cell, CELL.maxLines);
      });
      const height = Math.max(...cells.map((lines) => lines.length)) * lineHeight(layout.size) + 2 * CELL.padY;
      if (this.y + height > BOTTOM) {
        await this.newPage();
        const style: TextStyle = { size: 8, color: COLOR.muted };
        this.text.draw(this.text.ellipsize(`${section.title} (continued)`, CONTENT_WIDTH, style), MARGIN_X, this.y, style);
        this.y += lineHeight(8) + 2;
        this.headerRow(layout);
      }
      const fill = index === inProgressRow ? COLOR.inProgressFill : index % 2 === 1 ? COLOR.zebra : null;
      if (fill) this.doc.rect(MARGIN_X, this.y, CONTENT_WIDTH, height).fillColor(fill).fill();
      this.cellsRow(layout, cells, index === inProgressRow ? COLOR.inProgress : COLOR.text);
      this.y += height;
      index++;
    }
    if (index === 0 || cut) {
      const style: TextStyle = { size: layout.size, color: COLOR.muted };
      const note = cut
        ? `The first ${PDF_MAX_TABLE_ROWS.toLocaleString('en-US')} rows are shown; the table has more. Every row is in the report's CSV or Excel format.`
        : 'No rows';
      if (this.y + layout.rowHeight > BOTTOM) await this.newPage();
      this.text.draw(this.text.ellipsize(note, CONTENT_WIDTH - 2 * CELL.padX, style), MARGIN_X + CELL.padX, this.y + CELL.padY, style);
      this.y += layout.rowHeight;
    }
    this.rule();
    this.y += 18;
  }

  private headerLines(layout: TableLayout): string[][] {
    return layout.columns.map((column, c) => this.text.wrap(column.label, layout.widths[c] - 2 * CELL.padX, layout.header, 2));
  }

  private headerHeight(layout: TableLayout): number {
    const lines = Math.max(...this.headerLines(layout).map((l) => l.length));
    return lines * lineHeight(layout.size) + 2 * CELL.padY;
  }

  private headerRow(layout: TableLayout): void {
    const height = this.headerHeight(layout);
    this.doc.rect(MARGIN_X, this.y, CONTENT_WIDTH, height).fillColor(COLOR.headerFill).fill();
    let x = MARGIN_X;
    this.headerLines(layout).forEach((lines, c) => {
      const width = layout.widths[c];
      lines.forEach((line, l) => {
        const y = this.y + CELL.padY + l * lineHeight(layout.size);
        if (isNumericUnit(layout.columns[c].unit)) this.text.drawRight(line, x + width - CELL.padX, y, layout.header);
        else this.text.draw(line, x + CELL.padX, y, layout.header);
      });
      x += width;
    });
    this.y += height;
  }

  private cellsRow(layout: TableLayout, cells: string[][], color: string): void {
    let x = MARGIN_X;
    cells.forEach((lines, c) => {
      const { unit } = layout.columns[c];
      const width = layout.widths[c];
      const oneLine = isNumericUnit(unit) || isTimeUnit(unit);
      lines.forEach((line, l) => {
        const size = oneLine ? this.fittingSize(line, width - 2 * CELL.padX, layout.size) : layout.size;
        // A smaller number sits on the same baseline as its row's text.
        const y = this.y + CELL.padY + l * lineHeight(layout.size) + (layout.size - size);
        const style: TextStyle = { size, color };
        if (isNumericUnit(unit)) this.text.drawRight(line, x + width - CELL.padX, y, style);
        else this.text.draw(line, x + CELL.padX, y, style);
      });
      x += width;
    });
  }

  /**
   * The cell size, or a smaller one for a number wider than its column (columns are sized from
   * the first rows; a later, longer number is shrunk rather than cut — cut digits would lie).
   */
  private fittingSize(text: string, width: number, size: number): number {
    const natural = this.text.width(text, { size });
    if (natural <= width) return size;
    return Math.max(MIN_CELL_SIZE - 1, Math.floor(((size * width) / natural) * 10) / 10);
  }

  /**
   * The table's text size and column widths, from the header and the first rows: numbers and
   * dates as wide as they need (up to a bound), text columns share the rest. A table too wide
   * for the page at the normal size is set smaller (down to MIN_CELL_SIZE) before any column
   * gives way, so numbers are not squeezed.
   */
  private tableLayout(columns: TableColumn[], head: CellValue[][]): TableLayout {
    const isText = columns.map((column) => !isNumericUnit(column.unit) && !isTimeUnit(column.unit));
    const pad = 2 * CELL.padX;
    const TEXT_MIN = 60;
    // Widths scale with the size, so measure once at the normal size.
    const natural = columns.map((column, c) => {
      const header: TextStyle = { size: CELL.size, bold: true };
      // A header may wrap at spaces (its longest word is what it needs at least); given the
      // room, it is shown on one line.
      const longestWord = Math.max(...column.label.split(/\s+/).map((word) => this.text.width(word, header)));
      let widest = Math.min(this.text.width(column.label, header), Math.max(longestWord, 90));
      // Room for a wider number than the first rows hold (later rows may be longer).
      widest = Math.max(widest, this.text.width(WIDE_VALUE[column.unit], { size: CELL.size }));
      for (const row of head) {
        widest = Math.max(widest, this.text.width(formatValue(row[c], column.unit, this.report.timezone), { size: CELL.size }));
      }
      return widest;
    });
    const needed = natural.reduce((sum, w, c) => sum + (isText[c] ? TEXT_MIN : w + pad), 0);
    const size = needed <= CONTENT_WIDTH ? CELL.size : Math.max(MIN_CELL_SIZE, Math.floor(CELL.size * (CONTENT_WIDTH / needed) * 10) / 10);
    const scale = size / CELL.size;
    const widths = natural.map((w, c) => (isText[c] ? Math.min(Math.max(w * scale + pad, TEXT_MIN), 280) : Math.min(w * scale + pad, 140)));
    return {
      columns,
      size,
      cell: { size },
      header: { size, bold: true },
      rowHeight: lineHeight(size) + 2 * CELL.padY,
      widths: fitWidths(widths, isText),
    };
  }
}

interface TableLayout {
  columns: TableColumn[];
  /** The text size of the table's cells. */
  size: number;
  cell: TextStyle;
  header: TextStyle;
  /** The height of a one-line row. */
  rowHeight: number;
  widths: number[];
}

/**
 * Widths that add up to the content width: extra room goes to the text columns (to every
 * column if there is no text); a shortfall is taken from the text columns first (down to
 * 60 pt, then to 28 pt), and only then from every column in proportion.
 */
function fitWidths(widths: number[], isText: boolean[]): number[] {
  const total = widths.reduce((a, b) => a + b, 0);
  const grow = isText.some(Boolean) ? isText : widths.map(() => true);
  if (total <= CONTENT_WIDTH) {
    const growing = widths.reduce((sum, w, c) => sum + (grow[c] ? w : 0), 0);
    return widths.map((w, c) => (grow[c] ? w + ((CONTENT_WIDTH - total) * w) / growing : w));
  }
  const textTotal = widths.reduce((sum, w, c) => sum + (isText[c] ? w : 0), 0);
  const fixed = total - textTotal;
  // Numbers and times keep their width while the text columns can still shrink to a narrow
  // minimum (they wrap or end in "…"): a cut number or date would be wrong, a cut text is not.
  for (const textMin of [60, 28]) {
    if (textTotal > 0 && fixed + textMin * isText.filter(Boolean).length <= CONTENT_WIDTH) {
      const scale = (CONTENT_WIDTH - fixed) / textTotal;
      return widths.map((w, c) => (isText[c] ? w * scale : w));
    }
  }
  return widths.map((w) => (w * CONTENT_WIDTH) / total);
}

/**
 * A kept (buffered) page holds its content as one small buffer per drawing operation — some
 * 440 KB of heap for a page of table rows. Joined into one buffer when the page is finished it
 * takes what its bytes take (about 25 KB), which is what lets "Page n of m" be kept for a few
 * hundred pages. pdfkit joins the chunks itself when it writes the page, so this only does it
 * earlier; if pdfkit's page internals ever differ, it does nothing.
 */
function compactPageContent(page: unknown): void {
  const content = (page as { content?: { buffer?: unknown } } | undefined)?.content;
  if (content && Array.isArray(content.buffer) && content.buffer.length > 1) {
    content.buffer = [Buffer.concat(content.buffer as Uint8Array[])];
  }
}
