import type { ReportDocument } from '../report-document.js';
import type { ReportFormat } from '../report.types.js';
import { renderCsv } from './csv.renderer.js';
import { renderPdf } from './pdf.renderer.js';
import { renderXlsx } from './xlsx.renderer.js';

/** Draws a report document in one format, streamed to a file. */
export function renderReportFile(doc: ReportDocument, format: ReportFormat, path: string): Promise<void> {
  switch (format) {
    case 'pdf':
      return renderPdf(doc, path);
    case 'xlsx':
      return renderXlsx(doc, path);
    case 'csv':
      return renderCsv(doc, path);
  }
}
