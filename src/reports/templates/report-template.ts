import type { FieldProblem } from '../../common/api-error.js';
import type { EventSearch } from '../../infrastructure/search/event-search.port.js';
import type { InsightsService } from '../../insights/index.js';
import type { MetricsService } from '../../metrics/index.js';
import type { ResolvedPeriod } from '../report-period.js';
import type { ReportSection } from '../report-document.js';

/**
 * A parameter's type, as `GET /api/reports/templates` describes it so a client can build a form:
 * - `dateRange`: a relative period name, or `{start, end}` local dates (end inclusive);
 * - `string`, `eventName`, `integer` (with `min`/`max`), `enum` (with `values`);
 * - `eventNames`: an array of event names;
 * - `metricIds`: an array of the account's custom metric ids;
 * - `eventFilters`: `[{field, op, value}]` as custom metrics take them;
 * - `webFilters`: `[{name, operator, value}]` as the insights API takes them;
 * - `funnelSteps`: the insights funnel's steps (event names or `{name, filters}`).
 */
export type ParameterType = 'dateRange' | 'string' | 'eventName' | 'integer' | 'enum' | 'eventNames' | 'metricIds' | 'eventFilters' | 'webFilters' | 'funnelSteps';

export interface ParameterSpec {
  name: string;
  type: ParameterType;
  description: string;
  required: boolean;
  default?: unknown;
  /** `enum` values. */
  values?: readonly string[];
  /** `integer` bounds; `string` length bounds. */
  min?: number;
  max?: number;
}

/** What a template reads with: the same services the API answers from, so the numbers agree. */
export interface TemplateServices {
  metrics: MetricsService;
  insights: InsightsService;
  search: EventSearch;
}

export interface TemplateContext {
  accountId: string;
  /** The checked parameters, defaults filled in. */
  params: Record<string, unknown>;
  period: ResolvedPeriod;
  services: TemplateServices;
}

/** What a template makes: everything of the document but what the run knows (title, times). */
export interface TemplateOutput {
  /** The parameters as a reader should see them. */
  parameters: { label: string; value: string }[];
  sections: ReportSection[];
}

/**
 * A report template: one file each, listed in templates/registry.ts. `check` adds what the
 * generic parameter checks cannot know (that metric ids exist in the account, say).
 */
export interface ReportTemplate {
  name: string;
  title: string;
  description: string;
  parameters: ParameterSpec[];
  check?(accountId: string, params: Record<string, unknown>, services: TemplateServices): Promise<FieldProblem[]>;
  build(ctx: TemplateContext): Promise<TemplateOutput>;
}
