/**
 * A chart's data as a table, for the formats that carry data rather than pictures (the Excel
 * sheet of a chart section; the CSV of a report without a table).
 */
import type { ChartSpec } from '../charts/chart-spec.js';
import type { ReportTable } from '../report-document.js';

/** A row per category, a column per series; the category column is text as the chart labels it. */
export function chartTable(chart: ChartSpec, name = 'chart'): ReportTable {
  return {
    name,
    columns: [
      { key: 'category', label: 'Category', unit: 'text' },
      ...chart.series.map((series, i) => ({ key: `s${i}`, label: series.name, unit: chart.unit })),
    ],
    rows: chart.categories.map((category, i) => [category, ...chart.series.map((series) => series.values[i] ?? null)]),
  };
}
