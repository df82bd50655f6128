/**
 * A chart as a PNG (for email bodies, which cannot show SVG): the SVG of `renderChartSvg`
 * rasterised by resvg with the bundled fonts only, so CJK, Cyrillic and Hangul labels render
 * the same on a server with no fonts installed. Rendered on resvg's worker thread, off the event
 * loop.
 */
import { renderAsync } from '@resvg/resvg-js';
import { ALL_FONT_FILES, FONT_FAMILIES } from '../fonts.js';
import type { ChartSpec } from './chart-spec.js';
import { type ChartSize, renderChartSvg } from './chart-svg.js';

export interface ChartPngOptions extends ChartSize {
  /** Pixels per CSS pixel (2 for sharp images on high-density screens); default 1. */
  pixelRatio?: number;
}

export async function renderChartPng(spec: ChartSpec, options: ChartPngOptions): Promise<Buffer> {
  const ratio = options.pixelRatio ?? 1;
  const svg = renderChartSvg(spec, { width: options.width, height: options.height });
  const image = await renderAsync(svg, {
    fitTo: { mode: 'width', value: Math.round(options.width * ratio) },
    background: '#ffffff',
    font: {
      fontFiles: [...ALL_FONT_FILES],
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILIES.sc,
      sansSerifFamily: FONT_FAMILIES.sc,
    },
  });
  return image.asPng();
}
