/**
 * What other features use of insights: the service and the inputs it takes, parsed and checked as
 * the insights API checks them (reports build their web, funnel and retention sections so).
 */
export type { CountBy, FunnelStep } from './funnel-retention.query.js';
export { type InsightsFilter, parseFilters, regexPatterns } from './insights-filters.js';
export { countByOf, eventName, funnelSteps } from './insights-input.js';
export { DIMENSION_NAMES } from './insights-query.js';
export type { InsightsRange } from './insights-range.js';
export { InsightsApiModule, InsightsModule } from './insights.module.js';
export { InsightsService } from './insights.service.js';
