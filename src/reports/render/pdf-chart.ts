/**
 * A chart in a PDF as vectors: the chart's SVG (the same one the PNG is made of) drawn with
 * svg-to-pdfkit in the bundled fonts. svg-to-pdfkit takes one font per text element and has no
 * per-glyph fallback, so a label with Hangul is switched to Noto Sans KR (which also has Latin,
 * Cyrillic and common Han) and every other label uses Noto Sans SC.
 */
import type PDFDocument from 'pdfkit';
import SVGtoPDF from 'svg-to-pdfkit';
import { renderChartSvg } from '../charts/chart-svg.js';
import type { ChartSpec } from '../charts/chart-spec.js';
import { FONT_FAMILIES, hasHangul } from '../fonts.js';
import { fontPath } from './pdf-text.js';

type Doc = InstanceType<typeof PDFDocument>;

export interface ChartBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Chart pixels per PDF point: the chart is laid out 25% larger than its box and drawn scaled
 * down, so its 12px labels read at about 9.5pt, the size of the text around it.
 */
const CHART_SCALE = 1.25;

export function drawChart(doc: Doc, spec: ChartSpec, box: ChartBox): void {
  const size = { width: Math.round(box.width * CHART_SCALE), height: Math.round(box.height * CHART_SCALE) };
  const svg = withKoreanFontForHangul(renderChartSvg(spec, size));
  doc.save();
  doc.translate(box.x, box.y).scale(1 / CHART_SCALE);
  SVGtoPDF(doc, svg, 0, 0, {
    width: size.width,
    height: size.height,
    assumePt: true,
    fontCallback: (family, bold) => fontPath(family.trimStart().startsWith(FONT_FAMILIES.kr) ? 'kr' : 'sc', bold),
    warningCallback: () => undefined,
  });
  doc.restore();
}

/** Points every <text> whose content has Hangul at the KR font (its font-family lists KR first). */
export function withKoreanFontForHangul(svg: string): string {
  return svg.replace(/<text\b([^>]*)>([\s\S]*?)<\/text>/g, (element, attributes: string, content: string) => {
    if (!hasHangul(content)) return element;
    const switched = attributes.replace(/font-family:[^;"]*/, `font-family:${FONT_FAMILIES.kr}`);
    return `<text${switched}>${content}</text>`;
  });
}
