import { campaignPerformanceTemplate } from './campaign-performance.template.js';
import { eventExportTemplate } from './event-export.template.js';
import { eventSummaryTemplate } from './event-summary.template.js';
import { funnelTemplate } from './funnel.template.js';
import { metricsTemplate } from './metrics.template.js';
import type { ReportTemplate } from './report-template.js';
import { retentionTemplate } from './retention.template.js';
import { webOverviewTemplate } from './web-overview.template.js';

/** Every report template, in the order `GET /api/reports/templates` lists them. Adding one is one file and one line here. */
export const REPORT_TEMPLATES: readonly ReportTemplate[] = [
  campaignPerformanceTemplate,
  eventSummaryTemplate,
  metricsTemplate,
  webOverviewTemplate,
  funnelTemplate,
  retentionTemplate,
  eventExportTemplate,
];

/** The templates by name, checked once: a name twice, or a parameter twice, fails at boot. */
export function templateRegistry(templates: readonly ReportTemplate[] = REPORT_TEMPLATES): Map<string, ReportTemplate> {
  const byName = new Map<string, ReportTemplate>();
  for (const t of templates) {
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(t.name)) throw new Error(`report template name "${t.name}" must be lower-case letters, digits and _`);
    if (byName.has(t.name)) throw new Error(`report template "${t.name}" is registered twice`);
    const params = new Set<string>();
    for (const p of t.parameters) {
      if (params.has(p.name)) throw new Error(`report template "${t.name}" declares parameter "${p.name}" twice`);
      if (p.type === 'enum' && !p.values?.length) throw new Error(`report template "${t.name}": enum parameter "${p.name}" has no values`);
      params.add(p.name);
    }
    byName.set(t.name, t);
  }
  return byName;
}
