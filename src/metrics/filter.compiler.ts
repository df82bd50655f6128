import type { ParamBag } from '../infrastructure/clickhouse/query/query-kit.js';
import { existsExpr, numberExpr, resolveField, textExpr } from './field-ref.js';

export const FILTER_OPS = [
  'eq',
  'neq',
  'in',
  'not_in',
  'contains',
  'not_contains',
  'starts_with',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'not_exists',
  'regex',
] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

export interface MetricFilter {
  field: string;
  op: FilterOp;
  value?: unknown;
}

export class FilterError extends Error {
  constructor(
    readonly index: number,
    readonly field: 'field' | 'op' | 'value',
    message: string,
  ) {
    super(message);
  }
}

const scalar = (v: unknown): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v);

/** Checks a filter's shape (used at definition time, so a bad filter is refused with its index). */
export function checkFilter(f: MetricFilter, index: number): void {
  // Series filters are not checked by the DTO: any JSON may arrive here.
  if (typeof f.field !== 'string') throw new FilterError(index, 'field', 'must be a field name (a string)');
  try {
    resolveField(f.field);
  } catch (err) {
    throw new FilterError(index, 'field', (err as Error).message);
  }
  if (!FILTER_OPS.includes(f.op)) throw new FilterError(index, 'op', `must be one of ${FILTER_OPS.join(', ')}`);
  switch (f.op) {
    case 'exists':
    case 'not_exists':
      return;
    case 'in':
    case 'not_in':
      if (!Array.isArray(f.value) || f.value.length === 0 || f.value.length > 1000 || !f.value.every(scalar)) {
        throw new FilterError(index, 'value', 'must be an array of 1 to 1000 strings or numbers');
      }
      return;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (typeof f.value !== 'number' || !Number.isFinite(f.value)) throw new FilterError(index, 'value', 'must be a number');
      return;
    default:
      if (!scalar(f.value)) throw new FilterError(index, 'value', 'must be a string, number or boolean');
      if (String(f.value).length > 1000) throw new FilterError(index, 'value', 'must be at most 1000 characters');
  }
}

/** One filter as a SQL condition over the events table, every value bound. */
export function compileFilter(f: MetricFilter, bag: ParamBag): string {
  const ref = resolveField(f.field);
  const text = () => textExpr(ref, bag);
  const str = (v: unknown) => bag.bind(String(v), 'String');
  switch (f.op) {
    case 'eq':
      return `${text()} = ${str(f.value)}`;
    case 'neq':
      return `${text()} != ${str(f.value)}`;
    case 'in':
      return `${text()} IN ${bag.bind((f.value as unknown[]).map(String), 'Array(String)')}`;
    case 'not_in':
      return `${text()} NOT IN ${bag.bind((f.value as unknown[]).map(String), 'Array(String)')}`;
    case 'contains':
      return `position(${text()}, ${str(f.value)}) > 0`;
    case 'not_contains':
      return `position(${text()}, ${str(f.value)}) = 0`;
    case 'starts_with':
      return `startsWith(${text()}, ${str(f.value)})`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const op = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[f.op];
      return `${numberExpr(ref, bag)} ${op} ${bag.bind(f.value as number, 'Float64')}`;
    }
    case 'exists':
      return existsExpr(ref, bag);
    case 'not_exists':
      return `NOT ${existsExpr(ref, bag)}`;
    case 'regex':
      // ClickHouse matches with RE2: linear time, no catastrophic backtracking.
      return `match(${text()}, ${str(f.value)})`;
  }
}

export function compileFilters(filters: MetricFilter[], bag: ParamBag): string[] {
  return filters.map((f) => compileFilter(f, bag));
}
