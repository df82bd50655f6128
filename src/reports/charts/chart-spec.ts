/**
 * One chart, as data: built once by a template, drawn to SVG on the server (for the PDF, and as
 * a PNG for email) and in the browser by the live dashboard, from the same ECharts option
 * (chart-option.ts), so the numbers and the look never diverge.
 */
export interface ChartSpec {
  type: 'line' | 'bar' | 'hbar';
  /** Labels of the x axis (of the y axis for 'hbar'): local dates, names, steps. */
  categories: string[];
  series: ChartSeries[];
  /** How values read (axis labels and tooltips). */
  unit: 'count' | 'number' | 'percent' | 'seconds';
  /**
   * Index of the first category that is not complete (the current day): drawn dashed and
   * labelled "in progress", so a partial day never reads as a drop.
   */
  inProgressFrom?: number;
}

export interface ChartSeries {
  name: string;
  values: (number | null)[];
}
