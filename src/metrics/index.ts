/**
 * What other features use of custom metrics: the service (stored metrics' data, and ad-hoc
 * definitions answered the same way), the definition's shape and the answer's types.
 */
export type { MetricFilter } from './filter.compiler.js';
export type { MetricData, MetricDataQuery, MetricPoint } from './metric.types.js';
export type { TimeWindow } from './metric-query.js';
export type { MetricDto as MetricDefinition } from './metrics.dto.js';
export { MetricsApiModule, MetricsModule } from './metrics.module.js';
export { MetricsService } from './metrics.service.js';
