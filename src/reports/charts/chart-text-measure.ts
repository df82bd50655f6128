/**
 * Text widths for ECharts' server-side layout, measured in the bundled fonts. Without a canvas,
 * ECharts estimates every non-ASCII character as 1 em wide, so Cyrillic labels are cut far too
 * early and axis labels are spaced for text they do not draw. The SVG is drawn in these very
 * fonts (resvg for PNG, svg-to-pdfkit for PDF), so measuring with them makes the layout exact.
 * The fonts are read through pdfkit (which wraps fontkit), once per process.
 */
import PDFDocument from 'pdfkit';
import { FONT_FILES } from '../fonts.js';
import { PdfText } from '../render/pdf-text.js';

let measurer: PdfText | null = null;
const cache = new Map<string, number>();
const CACHE_LIMIT = 10_000;

/** zrender's measureText: `font` is a CSS shorthand such as "bold 12px Noto Sans SC, sans-serif". */
export function measureChartText(text: string, font?: string): { width: number } {
  const key = `${font ?? ''}\u0000${text}`;
  let width = cache.get(key);
  if (width === undefined) {
    measurer ??= new PdfText(new PDFDocument({ autoFirstPage: false, font: FONT_FILES.sc.regular }));
    const size = Number(/(\d+(?:\.\d+)?)px/.exec(font ?? '')?.[1] ?? 12);
    const bold = /\bbold(er)?\b|\b[6-9]00\b/.test(font ?? '');
    width = measurer.width(text, { size, bold });
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, width);
  }
  return { width };
}
