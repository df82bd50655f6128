/**
 * A generated report as data, before any format: what a template builds and every renderer
 * (PDF, Excel, CSV, the email's body) draws. Templates never know the format; renderers never
 * query. Numbers stay numbers (the renderers format them in the report's time zone and locale),
 * so an Excel cell is a typed number and a CSV cell the exact value.
 */
import type { ChartSpec } from './charts/chart-spec.js';

export interface ReportDocument {
  /** The report's name, as its definition gives it. */
  title: string;
  /** What the template is, in a line (e.g. "Event summary"). */
  subtitle: string;
  /** When it was generated, epoch ms. */
  generatedAt: number;
  /** IANA zone every date and time of the report is shown in. */
  timezone: string;
  /** The period reported: [from, to) in epoch ms, its label in local dates, and whether it is still running. */
  period: ReportPeriod;
  /** The parameters as a reader should see them (label → value text). */
  parameters: { label: string; value: string }[];
  sections: ReportSection[];
}

export interface ReportPeriod {
  from: number;
  to: number;
  /** e.g. "2026-11-01 – 2026-11-30" (local dates, end inclusive). */
  label: string;
  /** The period includes the current, unfinished day: figures are partial. */
  inProgress: boolean;
}

export type ReportSection = KpiSection | ChartSection | TableSection;

export interface KpiSection {
  kind: 'kpis';
  title: string;
  kpis: Kpi[];
}

export interface Kpi {
  label: string;
  value: number | null;
  unit: ValueUnit;
  /** e.g. "in progress", "vs. 1,204 the period before" */
  note?: string;
}

export interface ChartSection {
  kind: 'chart';
  title: string;
  chart: ChartSpec;
}

export interface TableSection {
  kind: 'table';
  title: string;
  table: ReportTable;
}

/** How a value reads: renderers pick number formats from it. */
export type ValueUnit = 'count' | 'number' | 'percent' | 'seconds' | 'text' | 'date' | 'datetime';

export interface TableColumn {
  key: string;
  label: string;
  unit: ValueUnit;
}

/** A cell: text, a number, an instant (epoch ms, for 'date' and 'datetime' columns), or nothing. */
export type CellValue = string | number | null;

export interface ReportTable {
  /** A short name for a sheet or a file (at most 31 characters, no []:*?/\). */
  name: string;
  columns: TableColumn[];
  /**
   * The rows, in order. An async iterable lets a large table (an event export) stream from the
   * store to the file without being held in memory; renderers read it once.
   */
  rows: CellValue[][] | AsyncIterable<CellValue[]>;
  /** A row that is not over yet (the current day): labelled "in progress" where shown. */
  inProgressRow?: number;
}
