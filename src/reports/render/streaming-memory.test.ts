/**
 * A 100,000-row table streams through the CSV and Excel renderers in bounded memory: the heap
 * (and the buffers outside it) after a full collection does not grow with the rows written.
 * Timing is not asserted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { CellValue, ReportDocument } from '../report-document.js';
import { renderCsv } from './csv.renderer.js';
import { EXPORT_COLUMNS, exportRow, sampleReport } from './report.fixture.js';
import { renderXlsx } from './xlsx.renderer.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ROWS = 100_000;
const CHECK_EVERY = 10_000;
/** Allowed growth of retained memory while the rows stream. Holding the rows would take ~30 MB. */
const MAX_GROWTH = 12 * 1024 * 1024;

function retained(): number {
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** A report whose one table streams ROWS rows, sampling retained memory as it goes. */
function streamedReport(samples: number[]): ReportDocument {
  async function* rows(): AsyncIterable<CellValue[]> {
    for (let i = 0; i < ROWS; i++) {
      if (i % CHECK_EVERY === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        samples.push(retained());
      }
      yield exportRow(i);
    }
    samples.push(retained());
  }
  const report = sampleReport({ exportRows: 0 });
  report.sections = [{ kind: 'table', title: 'Events export', table: { name: 'Events', columns: EXPORT_COLUMNS, rows: rows() } }];
  return report;
}

function assertBounded(samples: number[]): void {
  // The first sample is taken before the writer warmed up (fonts of XML templates, zlib state).
  const baseline = samples[1];
  const growth = Math.max(...samples.slice(1)) - baseline;
  assert.ok(growth < MAX_GROWTH, `retained memory grew ${(growth / 1e6).toFixed(1)} MB while streaming ${ROWS} rows`);
}

describe('renderers stream large tables in bounded memory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'report-stream-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`CSV: ${ROWS.toLocaleString('en-US')} rows`, async () => {
    const samples: number[] = [];
    const file = join(dir, 'big.csv');
    await renderCsv(streamedReport(samples), file);
    assert.equal(samples.length, ROWS / CHECK_EVERY + 1);
    assert.ok(statSync(file).size > ROWS * 40);
    assertBounded(samples);
  });

  it(`Excel: ${ROWS.toLocaleString('en-US')} rows`, async () => {
    const samples: number[] = [];
    const file = join(dir, 'big.xlsx');
    await renderXlsx(streamedReport(samples), file);
    assert.equal(samples.length, ROWS / CHECK_EVERY + 1);
    assert.ok(statSync(file).size > ROWS * 10);
    assertBounded(samples);
  });
});
