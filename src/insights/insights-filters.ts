import { ApiError } from '../common/api-error.js';
import type { RegexCandidate } from '../infrastructure/clickhouse/regex-validator.js';
import type { ParamBag } from '../infrastructure/clickhouse/query/query-kit.js';

/** OpenPanel's filter operators. */
export const OPERATORS = ['is', 'isNot', 'contains', 'doesNotContain', 'startsWith', 'endsWith', 'regex', 'isNull', 'isNotNull'] as const;
export type Operator = (typeof OPERATORS)[number];

/** The longest `regex` value (as metric filters' values). */
export const MAX_REGEX_LENGTH = 1000;

export interface InsightsFilter {
  name: string;
  operator: Operator;
  value: string[];
}

/**
 * Parses `filters` (a JSON array of {name, operator, value[]}) and checks every name against the
 * dimensions the endpoint can filter on.
 */
export function parseFilters(text: string | undefined, names: readonly string[]): InsightsFilter[] {
  if (text === undefined || text === '') return [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw ApiError.validation([{ field: 'filters', message: 'must be a JSON array of {name, operator, value}' }]);
  }
  if (!Array.isArray(raw) || raw.length > 20) {
    throw ApiError.validation([{ field: 'filters', message: 'must be a JSON array of at most 20 filters' }]);
  }
  return raw.map((f, i) => {
    const at = `filters[${i}]`;
    if (typeof f !== 'object' || f === null) throw ApiError.validation([{ field: at, message: 'must be an object {name, operator, value}' }]);
    const { name, operator, value } = f as Record<string, unknown>;
    if (typeof name !== 'string' || !names.includes(name)) {
      throw ApiError.validation([{ field: `${at}.name`, message: `must be one of ${names.join(', ')}` }]);
    }
    if (typeof operator !== 'string' || !(OPERATORS as readonly string[]).includes(operator)) {
      throw ApiError.validation([{ field: `${at}.operator`, message: `must be one of ${OPERATORS.join(', ')}` }]);
    }
    const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v !== 'string' && typeof v !== 'number') || values.length > 100) {
      throw ApiError.validation([{ field: `${at}.value`, message: 'must be an array of at most 100 strings' }]);
    }
    if (values.length === 0 && operator !== 'isNull' && operator !== 'isNotNull') {
      throw ApiError.validation([{ field: `${at}.value`, message: `needs at least one value for ${operator}` }]);
    }
    if (operator === 'regex') {
      const long = values.findIndex((v) => String(v).length > MAX_REGEX_LENGTH);
      if (long !== -1) throw ApiError.validation([{ field: `${at}.value[${long}]`, message: `must be at most ${MAX_REGEX_LENGTH} characters` }]);
    }
    return { name, operator: operator as Operator, value: values.map(String) };
  });
}

/**
 * The regular expressions of `regex` filters, each with its field's path (`filters[0].value[1]`,
 * after `prefix`): RegexValidator checks them before a query runs them.
 */
export function regexPatterns(filters: InsightsFilter[], prefix = ''): RegexCandidate[] {
  return filters.flatMap((f, i) =>
    f.operator === 'regex' ? f.value.map((pattern, j) => ({ field: `${prefix}filters[${i}].value[${j}]`, pattern })) : [],
  );
}

/** One filter as SQL over `column` (a String expression), values bound. Several values: any matches. */
export function filterSql(f: InsightsFilter, column: string, bag: ParamBag): string {
  const any = (make: (p: string) => string) => `(${f.value.map((v) => make(bag.bind(v, 'String'))).join(' OR ')})`;
  switch (f.operator) {
    case 'is':
      return `${column} IN ${bag.bind(f.value, 'Array(String)')}`;
    case 'isNot':
      return `${column} NOT IN ${bag.bind(f.value, 'Array(String)')}`;
    case 'contains':
      return any((p) => `positionCaseInsensitiveUTF8(${column}, ${p}) > 0`);
    case 'doesNotContain':
      return `NOT ${any((p) => `positionCaseInsensitiveUTF8(${column}, ${p}) > 0`)}`;
    case 'startsWith':
      return any((p) => `startsWith(${column}, ${p})`);
    case 'endsWith':
      return any((p) => `endsWith(${column}, ${p})`);
    case 'regex':
      return any((p) => `match(${column}, ${p})`);
    case 'isNull':
      return `${column} = ''`;
    case 'isNotNull':
      return `${column} != ''`;
  }
}
