/**
 * A chart drawn to an SVG string on the server with ECharts' own SSR renderer (no DOM, no
 * browser): the same option the dashboard draws, without animation, its text measured in the
 * bundled fonts it is drawn in.
 */
import * as echarts from 'echarts';
import { chartOption } from './chart-option.js';
import type { ChartSpec } from './chart-spec.js';
import { measureChartText } from './chart-text-measure.js';

// Lay text out by the widths it will be drawn at (the bundled fonts), not by ECharts' estimate.
echarts.setPlatformAPI({ measureText: measureChartText });

export interface ChartSize {
  /** CSS pixels (the SVG's user units; a PDF reads them as points). */
  width: number;
  height: number;
}

export function renderChartSvg(spec: ChartSpec, size: ChartSize): string {
  const chart = echarts.init(null, null, {
    renderer: 'svg',
    ssr: true,
    width: size.width,
    height: size.height,
  });
  try {
    chart.setOption({ ...chartOption(spec), animation: false });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/**
 * A height that fits the chart at a given width: a time series reads well at about 2:1; a
 * top-N bar chart needs a row per name.
 */
export function chartHeightFor(spec: ChartSpec, width: number): number {
  // A long list gets thinner rows rather than a chart taller than a page.
  if (spec.type === 'hbar') return Math.min(600, Math.max(140, 56 + 24 * spec.categories.length));
  return Math.round(Math.min(320, Math.max(180, width / 2)));
}
