/**
 * A ChartSpec as an ECharts option: the one look of a chart, drawn to SVG on the server (PDF,
 * email PNG) and by the browser dashboard. The option is plain JSON — no functions, formatters
 * are template strings — so the dashboard can receive it as it is (and add interactivity of its
 * own, e.g. a tooltip value formatter).
 *
 * The in-progress part (`inProgressFrom`) of a line is a separate dashed series of the same
 * name and colour (one legend entry), and the span it covers is shaded and labelled
 * "in progress"; in-progress bars are pale with a dashed outline.
 */
import type { EChartsOption } from 'echarts';
import { CHART_FONT_FAMILY } from './chart-font.js';
import { formatMeasure } from '../render/format.js';
import type { ChartSpec } from './chart-spec.js';

/** A fixed palette, readable on white and told apart in greyscale by lightness. */
export const CHART_PALETTE = [
  '#2f6fdb', // blue
  '#e8772e', // orange
  '#2a9d5c', // green
  '#c2416b', // raspberry
  '#7b5cd6', // purple
  '#1c9aa8', // teal
  '#b8860b', // dark gold
  '#6b7280', // grey
] as const;

const TEXT_COLOR = '#374151';
const MUTED_COLOR = '#6b7280';
const GRID_COLOR = '#e5e7eb';
const AXIS_COLOR = '#9ca3af';
const IN_PROGRESS_LABEL = 'in progress';

/** How a value axis reads, and the factor the values are divided by to read so. */
export interface AxisUnit {
  /** ECharts label template, e.g. "{value} %". */
  template: string;
  divisor: number;
}

/**
 * The value axis for a unit. Durations pick the largest of s / min / h that keeps the axis
 * readable (a template cannot print "1m 20s", and a JSON option has no functions): up to 3
 * minutes in seconds, up to 3 hours in minutes, hours beyond.
 */
export function axisUnit(spec: Pick<ChartSpec, 'unit' | 'series'>): AxisUnit {
  switch (spec.unit) {
    case 'percent':
      return { template: '{value} %', divisor: 1 };
    case 'seconds': {
      const max = Math.max(0, ...spec.series.flatMap((s) => s.values.map((v) => Math.abs(v ?? 0))));
      if (max <= 180) return { template: '{value} s', divisor: 1 };
      if (max <= 3 * 3600) return { template: '{value} min', divisor: 60 };
      return { template: '{value} h', divisor: 3600 };
    }
    default:
      return { template: '{value}', divisor: 1 };
  }
}

function scaled(value: number | null, divisor: number): number | null {
  if (value === null || divisor === 1) return value;
  return Math.round((value / divisor) * 100) / 100;
}

export function seriesColor(index: number): string {
  return CHART_PALETTE[index % CHART_PALETTE.length];
}

/** "#2f6fdb" with an alpha, as rgba() (ECharts and resvg both read it). */
function withAlpha(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** The index of the first in-progress category, or null when the whole chart is complete. */
function inProgressStart(spec: ChartSpec): number | null {
  const from = spec.inProgressFrom;
  if (from === undefined || from < 0 || from >= spec.categories.length) return null;
  return from;
}

export function chartOption(spec: ChartSpec): EChartsOption {
  const unit = axisUnit(spec);
  const horizontal = spec.type === 'hbar';
  const start = inProgressStart(spec);

  const categoryAxis = {
    type: 'category' as const,
    data: [...spec.categories],
    boundaryGap: spec.type !== 'line',
    inverse: horizontal, // top-N lists read top down
    axisLine: { lineStyle: { color: AXIS_COLOR } },
    axisTick: { show: false },
    axisLabel: horizontal
      ? { color: TEXT_COLOR, width: 150, overflow: 'truncate' as const, ellipsis: '…' }
      : { color: MUTED_COLOR, hideOverlap: true },
  };
  const valueAxis = {
    type: 'value' as const,
    // A top-N chart's value axis is short (the names take room): fewer, wider-spaced ticks.
    splitNumber: horizontal ? 3 : 5,
    axisLabel: { formatter: unit.template, color: MUTED_COLOR, hideOverlap: true },
    splitLine: { lineStyle: { color: GRID_COLOR } },
  };

  const series: Record<string, unknown>[] = [];
  spec.series.forEach((s, i) => {
    const color = seriesColor(i);
    const values = s.values.map((v) => scaled(v, unit.divisor));
    if (spec.type === 'line') {
      const line = {
        type: 'line',
        name: s.name,
        color,
        showSymbol: spec.categories.length <= 45,
        showAllSymbol: true,
        symbolSize: 5,
        lineStyle: { width: 2, color },
        itemStyle: { color },
        connectNulls: false,
      };
      if (start === null) {
        series.push({ ...line, data: values });
        return;
      }
      // Solid up to the last complete point, dashed from there on through the in-progress ones.
      const joint = Math.max(0, start - 1);
      series.push({ ...line, data: values.map((v, j) => (j < start ? v : null)) });
      series.push({
        ...line,
        data: values.map((v, j) => (j >= joint ? v : null)),
        lineStyle: { width: 2, color, type: 'dashed' },
        ...(i === 0 ? { markArea: inProgressArea(spec.categories, joint, horizontal) } : {}),
      });
      return;
    }
    const pale = { color: withAlpha(color, 0.3), borderColor: color, borderWidth: 1.5, borderType: 'dashed' };
    series.push({
      type: 'bar',
      name: s.name,
      color,
      itemStyle: { color },
      barMaxWidth: 28,
      data: values.map((v, j) => {
        const inProgress = start !== null && j >= start;
        // A top-N bar carries its value as text, formatted as every other format shows it
        // (templates cannot add thousands separators or read seconds as "4m 05s").
        const label = horizontal ? { formatter: formatMeasure(s.values[j], spec.unit) } : undefined;
        return inProgress || label ? { value: v, ...(inProgress ? { itemStyle: pale } : {}), ...(label ? { label } : {}) } : v;
      }),
      label: horizontal ? { show: true, position: 'right', color: TEXT_COLOR, fontSize: 11 } : { show: false },
      ...(i === 0 && start !== null ? { markArea: inProgressArea(spec.categories, start, horizontal) } : {}),
    });
  });

  const empty = spec.categories.length === 0 || !spec.series.some((s) => s.values.some((v) => v !== null));
  return {
    ...(empty
      ? { title: { text: 'No data', left: 'center', top: 'middle', textStyle: { color: MUTED_COLOR, fontSize: 13, fontWeight: 'normal' } } }
      : {}),
    color: [...CHART_PALETTE],
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: CHART_FONT_FAMILY, color: TEXT_COLOR },
    legend: {
      data: spec.series.map((s) => s.name),
      top: 4,
      left: 'center',
      type: 'plain',
      icon: spec.type === 'line' ? 'roundRect' : 'rect',
      itemWidth: 14,
      itemHeight: spec.type === 'line' ? 4 : 10,
      textStyle: { color: TEXT_COLOR, fontSize: 12 },
    },
    tooltip: { trigger: 'axis', axisPointer: { type: spec.type === 'line' ? 'line' : 'shadow' } },
    grid: {
      left: 12,
      right: horizontal ? 64 : 24,
      top: 40,
      bottom: 12,
      outerBoundsMode: 'same',
      outerBoundsContain: 'axisLabel',
    },
    xAxis: horizontal ? valueAxis : categoryAxis,
    yAxis: horizontal ? categoryAxis : valueAxis,
    series,
  } as EChartsOption;
}

/** The shaded, labelled span of in-progress categories. */
function inProgressArea(categories: string[], from: number, horizontal: boolean) {
  const axis = horizontal ? 'yAxis' : 'xAxis';
  return {
    silent: true,
    itemStyle: { color: 'rgba(107, 114, 128, 0.08)' },
    label: {
      show: true,
      // Right-aligned inside the span: a one-day span is narrower than its label.
      position: horizontal ? 'insideBottomRight' : 'insideTopRight',
      formatter: IN_PROGRESS_LABEL,
      color: MUTED_COLOR,
      fontSize: 11,
    },
    data: [[{ [axis]: categories[from] }, { [axis]: categories[categories.length - 1] }]],
  };
}
