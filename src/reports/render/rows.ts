/**
 * Reading a table's rows once, in order, whether they are an array or an async iterable (a
 * large table streamed from the store), with a bounded look-ahead for sizing columns.
 */
import type { CellValue, ReportTable } from '../report-document.js';

export interface PeekedRows {
  /** Up to `count` first rows, to size columns by (they are also in `all`). */
  head: CellValue[][];
  /** Every row, the head first; readable once. */
  all: AsyncIterable<CellValue[]>;
}

/** Reads the first `count` rows ahead without losing them, holding no more than those. */
export async function peekRows(rows: ReportTable['rows'], count: number): Promise<PeekedRows> {
  if (Array.isArray(rows)) return { head: rows.slice(0, count), all: fromArray(rows) };
  const iterator = (rows as AsyncIterable<CellValue[]>)[Symbol.asyncIterator]();
  const head: CellValue[][] = [];
  let done = false;
  while (head.length < count) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    head.push(next.value);
  }
  async function* all(): AsyncIterable<CellValue[]> {
    try {
      // Hand the head over and forget it, so it is not held while the rest streams.
      while (head.length > 0) yield head.shift()!;
      while (!done) {
        const next = await iterator.next();
        if (next.done) done = true;
        else yield next.value;
      }
    } finally {
      // A reader that stops early (an error) lets the source release what it holds.
      if (!done) await iterator.return?.();
    }
  }
  return { head: [...head], all: all() };
}

/** An array's rows as an async iterable that lets the event loop run every so often (I/O drains). */
async function* fromArray(rows: CellValue[][]): AsyncIterable<CellValue[]> {
  for (let i = 0; i < rows.length; i++) {
    if (i > 0 && i % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
    yield rows[i];
  }
}
