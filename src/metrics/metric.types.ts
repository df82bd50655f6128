import type { Interval } from '../infrastructure/clickhouse/query/query-kit.js';
import type { MetricFilter } from './filter.compiler.js';

export const METRIC_TYPES = ['counter', 'gauge', 'histogram'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

export const AGGREGATIONS = ['count', 'sum', 'avg', 'min', 'max', 'unique', 'p50', 'p90', 'p95', 'p99'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

/**
 * How a unique count is counted: `exact` (a hash set of every id) or `approximate` (a
 * uniqCombined64 sketch: exact up to a few thousand ids, then HyperLogLog, relative error
 * about 0.5 %). New unique-count series default to approximate; metrics saved before it existed
 * have none and count exactly.
 */
export const PRECISIONS = ['exact', 'approximate'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** How a formula metric's point values roll up into its totals. */
export const ROLLUPS = ['count', 'sum', 'avg', 'min', 'max'] as const;

/** One named series: which events, and how they aggregate into a number. */
export interface SeriesSpec {
  eventName?: string;
  eventType?: string;
  aggregation: Aggregation;
  /** The numeric field of sum / avg / min / max / percentiles, or the field counted by unique. */
  field?: string;
  filters?: MetricFilter[];
  /** Unique counts only; absent means exact (a definition saved before precision existed). */
  precision?: Precision;
}

export interface MetricDocument {
  _id: string;
  accountId: string;
  name: string;
  description?: string;
  type: MetricType;
  unit?: string;
  aggregation: Aggregation;
  /** Single-series metrics (no formula): the events counted or measured. */
  eventName?: string;
  eventType?: string;
  field?: string;
  /** A single-series unique count's precision (see PRECISIONS). */
  precision?: Precision;
  formula?: string;
  series?: Record<string, SeriesSpec>;
  filters: MetricFilter[];
  dimensions: string[];
  /** Histogram bucket boundaries (ascending). */
  buckets?: number[];
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface MetricDataQuery {
  from: number;
  to: number;
  interval: Interval;
  timezone: string;
  groupBy: string[];
  limit?: number;
  other: boolean;
  fill: boolean;
}

export interface MetricPoint {
  t: string;
  value: number | null;
}

export interface MetricSeriesOut {
  group: Record<string, string> | null;
  points: MetricPoint[];
  total: number | null;
  histogram?: { from: number | null; to: number | null; count: number }[];
}

export interface MetricData {
  metric: { id: string; name: string; type: MetricType; unit?: string; aggregation: Aggregation };
  interval: Interval;
  timezone: string;
  from: string;
  to: string;
  series: MetricSeriesOut[];
  totals: { value: number | null };
}
