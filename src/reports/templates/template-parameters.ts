import { ApiError, type FieldProblem } from '../../common/api-error.js';
import type { RegexValidator } from '../../infrastructure/clickhouse/regex-validator.js';
import { DIMENSION_NAMES, funnelSteps, parseFilters, regexPatterns } from '../../insights/index.js';
import { checkDateRange } from '../report-period.js';
import type { ParameterSpec, ReportTemplate, TemplateServices } from './report-template.js';

const EVENT_NAME_MAX = 200;

/** An ApiError's field problems, renamed under `prefix` (the insights parsers name their own fields). */
function problemsOf(err: unknown, rename: (field: string) => string): FieldProblem[] {
  if (err instanceof ApiError && Array.isArray(err.details)) return (err.details as FieldProblem[]).map((p) => ({ ...p, field: rename(p.field) }));
  throw err;
}

function checkOne(spec: ParameterSpec, value: unknown, field: string): FieldProblem[] {
  const isName = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= EVENT_NAME_MAX;
  switch (spec.type) {
    case 'dateRange':
      return checkDateRange(value, field);
    case 'string': {
      const [min, max] = [spec.min ?? 1, spec.max ?? 500];
      return typeof value === 'string' && value.length >= min && value.length <= max ? [] : [{ field, message: `must be a string of ${min} to ${max} characters` }];
    }
    case 'eventName':
      return isName(value) ? [] : [{ field, message: `must be an event name (1 to ${EVENT_NAME_MAX} characters)` }];
    case 'integer': {
      const ok = typeof value === 'number' && Number.isSafeInteger(value) && (spec.min === undefined || value >= spec.min) && (spec.max === undefined || value <= spec.max);
      return ok ? [] : [{ field, message: `must be a whole number${spec.min !== undefined ? ` from ${spec.min}` : ''}${spec.max !== undefined ? ` to ${spec.max}` : ''}` }];
    }
    case 'enum':
      return typeof value === 'string' && spec.values!.includes(value) ? [] : [{ field, message: `must be one of ${spec.values!.join(', ')}` }];
    case 'eventNames':
      if (!Array.isArray(value) || value.length === 0 || value.length > 20) return [{ field, message: 'must be an array of 1 to 20 event names' }];
      return value.flatMap((v, i) => (isName(v) ? [] : [{ field: `${field}[${i}]`, message: `must be an event name (1 to ${EVENT_NAME_MAX} characters)` }]));
    case 'metricIds':
      if (!Array.isArray(value) || value.length === 0 || value.length > 20) return [{ field, message: 'must be an array of 1 to 20 metric ids' }];
      return value.flatMap((v, i) => (typeof v === 'string' && v.length > 0 && v.length <= 100 ? [] : [{ field: `${field}[${i}]`, message: 'must be a metric id' }]));
    case 'eventFilters':
    case 'webFilters':
    case 'funnelSteps':
      return []; // checked with the services (below)
  }
}

/**
 * A template's parameters checked against its declared types (problems name
 * `parameters.<name>…`), defaults filled in; then the checks that need the store (regular
 * expressions, as RE2 compiles them) and the template's own.
 */
export async function checkParameters(
  template: ReportTemplate,
  raw: unknown,
  accountId: string,
  services: TemplateServices,
  regexes: RegexValidator,
): Promise<{ params: Record<string, unknown>; problems: FieldProblem[] }> {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
    return { params: {}, problems: [{ field: 'parameters', message: 'must be an object' }] };
  }
  const given = (raw ?? {}) as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const params: Record<string, unknown> = {};
  const known = new Set(template.parameters.map((p) => p.name));
  for (const k of Object.keys(given)) {
    if (!known.has(k)) problems.push({ field: `parameters.${k}`, message: `is not a parameter of ${template.name} (${[...known].join(', ')})` });
  }
  for (const spec of template.parameters) {
    const field = `parameters.${spec.name}`;
    const value = given[spec.name] ?? spec.default;
    if (value === undefined || value === null) {
      if (spec.required) problems.push({ field, message: 'is required' });
      continue;
    }
    const found = checkOne(spec, value, field);
    problems.push(...found);
    if (found.length > 0) continue;
    if (spec.type === 'eventFilters') {
      const more = await services.metrics.filterProblems(value, field);
      problems.push(...more);
      if (more.length > 0) continue;
    } else if (spec.type === 'webFilters') {
      try {
        const filters = parseFilters(JSON.stringify(value), DIMENSION_NAMES);
        const more = await regexes.problems(regexPatterns(filters, `${field}.`));
        problems.push(...more.map((p) => ({ ...p, field: p.field.replace(`${field}.filters`, field) })));
      } catch (err) {
        problems.push(...problemsOf(err, (f) => f.replace(/^filters/, field)));
      }
    } else if (spec.type === 'funnelSteps') {
      try {
        const steps = funnelSteps(value);
        problems.push(...(await regexes.problems(steps.flatMap((s, i) => regexPatterns(s.filters, `${field}[${i}].`)))));
      } catch (err) {
        problems.push(...problemsOf(err, (f) => f.replace(/^steps/, field)));
      }
    }
    params[spec.name] = value;
  }
  if (problems.length === 0 && template.check) problems.push(...(await template.check(accountId, params, services)));
  return { params, problems };
}
