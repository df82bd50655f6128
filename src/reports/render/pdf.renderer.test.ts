import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { formatDateTime } from './format.js';
import { renderPdf } from './pdf.renderer.js';
import { EXPORT_COLUMNS, exportRow, FIXTURE_ZONE, sampleReport } from './report.fixture.js';

/** Each page's text items, as pdf.js extracts them (what a reader can select and search). */
async function pdfPages(data: Uint8Array): Promise<string[][]> {
  const pdf = await getDocument({ data, verbosity: 0 }).promise;
  const pages: string[][] = [];
  for (let n = 1; n <= pdf.numPages; n++) {
    const content = await (await pdf.getPage(n)).getTextContent();
    pages.push(content.items.flatMap((item) => ('str' in item && item.str ? [item.str] : [])));
  }
  await pdf.destroy();
  return pages;
}

describe('PDF renderer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'report-pdf-'));
  let bytes: Buffer;
  let pages: string[][];
  /** A page's text with its items joined as drawn (runs of one line are adjacent items). */
  const text = (page: string[]) => page.join('');

  before(async () => {
    const file = join(dir, 'report.pdf');
    await renderPdf(sampleReport(), file);
    bytes = readFileSync(file);
    pages = await pdfPages(new Uint8Array(bytes));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('opens with the title block and the KPI tiles', () => {
    const first = text(pages[0]);
    for (const expected of [
      'Weekly product report',
      'Event summary',
      '2026-11-01 – 2026-11-30',
      'in progress',
      'page_view, signup 注册 регистрация 가입, purchase',
      'Generated 2026-11-30 14:05 (Europe/Berlin)',
      '1,234,567',
      'vs. 1,204,113 the period before',
      '45.2 %',
      '4m 05s',
      '27.31',
      'Events per day',
    ]) {
      assert.ok(first.includes(expected), `page 1 shows ${expected}`);
    }
  });

  it('holds the table values, with CJK, Cyrillic and Hangul text and the in-progress row', () => {
    const all = pages.map(text).join('\n');
    for (const expected of [
      'signup 注册 регистрация 가입',
      '购买 purchase',
      'Заказ оформлен',
      '결제 완료',
      '=1+2',
      '812,345',
      '65.8 %',
      '1h 02m',
      '-12.5',
      '2026-11-30 14:04',
      '2026-11-30 (in progress)',
    ]) {
      assert.ok(all.includes(expected), `the PDF shows ${expected}`);
    }
  });

  it('numbers every page "Page n of m" with the title in the footer', () => {
    assert.ok(pages.length > 40, `${pages.length} pages`);
    pages.forEach((page, i) => {
      assert.ok(page.includes(`Page ${i + 1} of ${pages.length}`), `page ${i + 1} number`);
      assert.ok(page.includes('Weekly product report'), `page ${i + 1} title`);
    });
  });

  it('repeats the header row on every page a table crosses, and streams every row', () => {
    const continued = pages.filter((page) => text(page).includes('Events export (continued)'));
    assert.ok(continued.length >= 40, `${continued.length} continuation pages`);
    for (const page of continued) {
      for (const column of EXPORT_COLUMNS) assert.ok(page.includes(column.label), `header ${column.label}`);
    }
    const last = text(pages[pages.length - 1]);
    assert.ok(last.includes(formatDateTime(exportRow(1999)[0] as number, FIXTURE_ZONE)), 'the last row is on the last page');
  });

  it('embeds only the bundled fonts, subset — never a standard 14 font', () => {
    const raw = bytes.toString('latin1');
    const baseFonts = [...raw.matchAll(/\/BaseFont\s*\/([^\s/>]+)/g)].map((m) => m[1]);
    assert.ok(baseFonts.length >= 2);
    for (const name of baseFonts) assert.match(name, /^[A-Z]{6}\+NotoSans(SC|KR)-(Regular|Bold)$/);
    assert.ok(raw.includes('/FontFile2'));
  });

  it('past maxBufferedPages, writes pages as they are finished, numbered "Page n"', async () => {
    let written = 0;
    let writtenBeforeLastRows = 0;
    const report = sampleReport({ exportRows: 0 });
    const columns = EXPORT_COLUMNS;
    async function* rows() {
      for (let i = 0; i < 1500; i++) {
        if (i === 1400) {
          await new Promise((resolve) => setImmediate(resolve));
          writtenBeforeLastRows = written;
        }
        yield exportRow(i);
      }
    }
    report.sections = [{ kind: 'table', title: 'Events export', table: { name: 'Events', columns, rows: rows() } }];
    const chunks: Buffer[] = [];
    const target = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        written += chunk.length;
        chunks.push(chunk);
        callback();
      },
    });
    await renderPdf(report, target, { maxBufferedPages: 3 });
    // Most of the file was out before the last rows were even read: nothing waits for the end.
    assert.ok(writtenBeforeLastRows > written / 2, `${writtenBeforeLastRows} of ${written} bytes were out before the last rows`);
    const streamed = await pdfPages(new Uint8Array(Buffer.concat(chunks)));
    assert.ok(streamed.length > 30);
    streamed.forEach((page, i) => {
      assert.ok(page.includes(`Page ${i + 1}`), `page ${i + 1} number`);
      assert.ok(!text(page).includes(' of '), 'no total');
    });
  });
});
