import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ApiError, type FieldProblem } from '../common/api-error.js';
import { acceptsVersion, type IfMatch, versionTag } from '../common/entity-tag.js';
import { isUnknownZoneError, unknownZone } from '../common/time.js';
import { EVENTS_STORE, type EventsStore, EventsStoreError } from '../infrastructure/clickhouse/events-store.port.js';
import { INTERVAL_MS } from '../infrastructure/clickhouse/query/query-kit.js';
import { CANNOT_COMPILE_REGEXP, type RegexCandidate, RegexValidator } from '../infrastructure/clickhouse/regex-validator.js';
import { resolveField } from './field-ref.js';
import { checkFilter, FilterError, type MetricFilter } from './filter.compiler.js';
import { FormulaError, parseFormula, seriesNames } from './formula.js';
import {
  GROUP_SEPARATOR,
  metricSeries,
  OTHER_GROUP,
  pointsAndTotalsQuery,
  pointsQuery,
  rollupAnswers,
  rollupAnswersWindows,
  type TimeWindow,
  topGroupsQuery,
  totalsQuery,
  usesSketches,
  windowsQuery,
} from './metric-query.js';
import { ApproximateUniquesBackfill } from './approximate-uniques.backfill.js';
import { MetricHoursService } from './metric-hours.service.js';
import {
  AGGREGATIONS,
  type Aggregation,
  type MetricData,
  type MetricDataQuery,
  type MetricDocument,
  type MetricSeriesOut,
  type Precision,
  PRECISIONS,
  ROLLUPS,
  type SeriesSpec,
} from './metric.types.js';
import type { MetricDto, MetricReplaceDto } from './metrics.dto.js';
import { MetricsRepository } from './metrics.repository.js';

const NEEDS_FIELD: Aggregation[] = ['sum', 'avg', 'min', 'max', 'p50', 'p90', 'p95', 'p99'];
/** The keys of a series and of a filter: `series` is a free-form object the DTO does not whitelist. */
const SERIES_KEYS = ['eventName', 'eventType', 'aggregation', 'field', 'filters', 'precision'];
const FILTER_KEYS = ['field', 'op', 'value'];
export const MAX_POINTS = 10_000;
/** Up to this many buckets, a ranked grouping from hourly states reads every group's points beside the ranking. */
const EAGER_POINTS_BUCKETS = 100;

/** Which stored shortcuts an answer may read (all by default). */
export interface AnswerOptions {
  rollup?: boolean;
  hours?: boolean;
}

export type MetricView = Omit<MetricDocument, '_id' | 'accountId'> & { id: string };

/** Custom metric definitions and their time series. */
@Injectable()
export class MetricsService {
  constructor(
    private readonly repository: MetricsRepository,
    @Inject(EVENTS_STORE) private readonly store: EventsStore,
    private readonly regexes: RegexValidator,
    private readonly sketches: ApproximateUniquesBackfill,
    private readonly hours: MetricHoursService,
  ) {}

  /** Whether the rollup's sketches are there for every row, where the metric counts with them. */
  private async sketchesReady(metric: MetricDocument): Promise<boolean> {
    return !usesSketches(metric) || (await this.sketches.ready());
  }

  async create(accountId: string, dto: MetricDto): Promise<MetricView> {
    const fields = await this.validate(dto);
    const now = new Date().toISOString();
    const doc: MetricDocument = { _id: randomUUID(), accountId, ...fields, createdAt: now, updatedAt: now, version: 1 };
    await this.repository.insert(stripUndefined(doc));
    return view(doc);
  }

  async list(accountId: string, offset: number, limit: number) {
    const [metrics, total] = await Promise.all([this.repository.list(accountId, offset, limit), this.repository.count(accountId)]);
    return { metrics: metrics.map(view), total, limit, offset };
  }

  async get(accountId: string, id: string): Promise<MetricView> {
    return view(await this.load(accountId, id));
  }

  /**
   * Replaces a definition, on the version the caller based the change on when it says which:
   * `If-Match` with the metric's ETag (a stale tag answers 412; `*` matches any version) or the
   * body's `version` (a stale one answers 409, like any conflicting change). Without either the
   * last writer wins, except that a change stored between our read and our write answers 409.
   * Every write is conditional on the version read (`repository.replace`), so a check that
   * passed cannot be overtaken by a concurrent change.
   */
  async replace(accountId: string, id: string, dto: MetricReplaceDto, ifMatch?: IfMatch): Promise<MetricView> {
    if (dto.id !== undefined && dto.id !== id) {
      throw ApiError.validation([{ field: 'id', message: `must be the id in the path (${id}) or absent` }]);
    }
    const tags = ifMatch && !ifMatch.any ? ifMatch : undefined;
    if (tags && dto.version !== undefined && !acceptsVersion(tags, dto.version)) {
      throw ApiError.validation([{ field: 'version', message: `${dto.version} disagrees with If-Match (${versionTag(dto.version)} is not among its tags)` }]);
    }
    const current = await this.load(accountId, id);
    if (tags && !acceptsVersion(tags, current.version)) throw preconditionFailed(versionTag(current.version));
    if (dto.version !== undefined && dto.version !== current.version) {
      throw new ApiError(409, 'conflict', `version ${dto.version} is stale: the metric is at version ${current.version}; read it again and reapply your change`);
    }
    const fields = await this.validate(dto, current);
    const updatedAt = new Date().toISOString();
    if (!(await this.repository.replace(accountId, id, current.version, { ...fields, updatedAt }))) {
      // Changed (or deleted) since we read it: the If-Match tags no longer match; otherwise a conflict.
      if (tags) throw preconditionFailed();
      throw new ApiError(409, 'conflict', 'the metric was changed by someone else meanwhile; read it again and retry');
    }
    return view({ ...current, ...fields, updatedAt, version: current.version + 1 });
  }

  /** validateDefinition, then the regular expressions of `regex` filters, compiled by the store's RE2. */
  private async validate(dto: MetricDto, previous?: MetricDocument): Promise<DefinitionFields> {
    const fields = validateDefinition(dto, previous);
    const problems = await this.regexes.problems(regexPatterns(fields));
    if (problems.length > 0) throw ApiError.validation(problems);
    return fields;
  }

  /**
   * Event filters (`[{field, op, value}]`) checked as a metric's, regular expressions included;
   * the problems name their place under `path` (a report's `parameters.filters`).
   */
  async filterProblems(filters: unknown, path: string): Promise<FieldProblem[]> {
    if (!Array.isArray(filters) || filters.length > 20) return [{ field: path, message: 'must be an array of at most 20 filters {field, op, value}' }];
    const rename = (p: FieldProblem) => ({ ...p, field: p.field.replace(/^filters/, path) });
    try {
      await this.validate({ name: 'filters', type: 'counter', aggregation: 'count', filters } as MetricDto);
      return [];
    } catch (err) {
      if (err instanceof ApiError && Array.isArray(err.details)) return (err.details as FieldProblem[]).map(rename);
      throw err;
    }
  }

  async remove(accountId: string, id: string): Promise<void> {
    if (!(await this.repository.remove(accountId, id))) throw ApiError.notFound('metric');
  }

  /**
   * The metric's series and totals. `rollup: false` reads raw events even where the per-minute
   * rollup or the metric's hourly states would answer, `hours: false` leaves out only the
   * hourly states: the tests compare the paths.
   */
  async data(accountId: string, id: string, q: MetricDataQuery, options: AnswerOptions = {}): Promise<MetricData> {
    return this.answer(await this.load(accountId, id), accountId, q, options);
  }

  /**
   * The series and totals of a definition that is not stored, checked as a stored one would be:
   * reports ask their questions this way, through the same code path as `/data`, so a report
   * and the API never disagree on a number.
   */
  async evaluate(accountId: string, definition: MetricDto, q: MetricDataQuery): Promise<MetricData> {
    const fields = await this.validate(definition);
    const metric: MetricDocument = { _id: '', accountId, ...fields, createdAt: '', updatedAt: '', version: 0 };
    return this.answer(metric, accountId, q, {});
  }

  /**
   * A stored metric by id, or else by name (names are not unique: the oldest of that name wins):
   * alerts name their metric either way. Null when the account has neither.
   */
  async resolve(accountId: string, idOrName: string): Promise<MetricView | null> {
    const metric = (await this.repository.find(accountId, idOrName)) ?? (await this.repository.findByName(accountId, idOrName));
    return metric ? view(metric) : null;
  }

  /**
   * The metric's value in each window (sorted, not overlapping), from one query: what alerts
   * judge. `where` narrows it to one value of one of its dimensions. A window without events
   * is 0 for a count, sum or unique count, and null (nothing measured) otherwise; the numbers
   * are the ones `/data` gives as the total of the same range.
   */
  async windowValues(accountId: string, id: string, windows: TimeWindow[], where?: { dimension: string; value: string }): Promise<(number | null)[]> {
    if (windows.length === 0) return [];
    let metric = await this.load(accountId, id);
    if (where) {
      if (!metric.dimensions.includes(where.dimension)) {
        throw ApiError.validation([{ field: 'metric.dimension', message: `"${where.dimension}" is not one of the metric's dimensions (${metric.dimensions.join(', ') || 'none'})` }]);
      }
      metric = { ...metric, filters: [...metric.filters, { field: where.dimension, op: 'eq', value: where.value }] };
    }
    const rollup = rollupAnswersWindows(metric, windows) && (await this.sketchesReady(metric));
    const rows = await this.run<{ w: number; value: number | null }>(windowsQuery(metric, accountId, windows, { rollup }));
    // (A histogram's value is its count of values.)
    const none = metric.type === 'histogram' || (!metric.formula && ['count', 'sum', 'unique'].includes(metric.aggregation)) ? 0 : null;
    const values: (number | null)[] = windows.map(() => none);
    for (const r of rows) values[Number(r.w)] = r.value === null ? null : Number(r.value);
    return values;
  }

  private async answer(metric: MetricDocument, accountId: string, q: MetricDataQuery, options: AnswerOptions): Promise<MetricData> {
    for (const [i, d] of q.groupBy.entries()) {
      if (!metric.dimensions.includes(d)) {
        throw ApiError.validation([{ field: `groupBy[${i}]`, message: `"${d}" is not one of the metric's dimensions (${metric.dimensions.join(', ') || 'none'})` }]);
      }
    }
    if ((q.to - q.from) / INTERVAL_MS[q.interval] > MAX_POINTS) {
      throw ApiError.validation([{ field: 'interval', message: `gives more than ${MAX_POINTS} points for this range; use a longer interval` }]);
    }
    type TotalsRow = Record<string, number | string | null>;
    type PointRow = { t: number; gkey: string; present: number; value: number | null };
    // Totals come from the points when they can be exactly (a formula's roll-up, or a count, sum,
    // min or max); unique, avg and percentiles need their own pass over the whole range.
    const needsTotalsQuery = rollupOf(metric) === null;
    const ranked = q.limit !== undefined && q.groupBy.length > 0;
    // Counts come fastest from the per-minute rollup where it answers (bench/metrics: 30 against
    // 41 ms by hours); anything else from the metric's hourly states where they answer (unique
    // users over 7 days: 190 against 360 ms by the rollup's sketches).
    const rollupFits = rollupAnswers(metric, q);
    const countsByRollup = rollupFits && [...metricSeries(metric).values()].every((s) => s.aggregation === 'count');
    const hours =
      options.rollup === false || options.hours === false || countsByRollup ? null : await this.hours.span(metric, accountId, q).catch((err) => this.failed(err));
    const source = hours ? { hours } : {};
    const buckets = (q.to - q.from) / INTERVAL_MS[q.interval];
    // From hourly states, points and totals come from one query (one read of the raw edges):
    // every group's (ranked here when limited), without `fill`.
    const together = hours !== null && needsTotalsQuery && !q.fill && !(ranked && q.other) && (!ranked || buckets <= EAGER_POINTS_BUCKETS);
    if (together) {
      const rows = await this.run<PointRow & { range: number; overall: number; in_points: number }>(pointsAndTotalsQuery(metric, accountId, q, hours));
      const all = rows.filter((r) => Number(r.range) === 1);
      let top: Set<string> | undefined;
      if (ranked) {
        const ranking = all
          .filter((r) => Number(r.overall) !== 1)
          .sort((a, b) => num(b.value) - num(a.value) || String(a.gkey).localeCompare(String(b.gkey)))
          .slice(0, q.limit);
        top = new Set(ranking.map((r) => String(r.gkey)));
      }
      const kept = (r: { gkey: string }) => !top || top.has(String(r.gkey));
      const points = rows
        // (a bucket of rows read for the totals only, a day or the merged range, is no point)
        .filter((r) => Number(r.range) !== 1 && Number(r.in_points) > 0 && kept(r))
        .map((r) => ({ ...r, present: 1 }))
        // (as pointsQuery orders them)
        .sort((a, b) => (a.gkey < b.gkey ? -1 : a.gkey > b.gkey ? 1 : Number(a.t) - Number(b.t)));
      const totals = all.filter((r) => Number(r.overall) === 1 || kept(r));
      return this.assemble(metric, q, points, totals);
    }
    if (ranked && needsTotalsQuery && !q.other) {
      // The totals pass ranks the groups too: two queries instead of three. From hourly states
      // (at most 1,000 groups an hour) over at most EAGER_POINTS_BUCKETS buckets, the points of
      // every group are read at the same time and the top ones kept; otherwise the points wait
      // for the ranking and are read for the top groups only.
      const eager = hours !== null && buckets <= EAGER_POINTS_BUCKETS;
      const [all, everyPoint] = await Promise.all([
        this.run<TotalsRow>(totalsQuery(metric, accountId, q, source)),
        eager ? this.run<PointRow>(pointsQuery(metric, accountId, q, source)) : null,
      ]);
      const top = all
        .filter((r) => Number(r.overall) !== 1)
        .sort((a, b) => num(b.value) - num(a.value) || String(a.gkey).localeCompare(String(b.gkey)))
        .slice(0, q.limit)
        .map((r) => String(r.gkey));
      const totals = all.filter((r) => Number(r.overall) === 1 || top.includes(String(r.gkey)));
      let points: PointRow[] = [];
      if (everyPoint) {
        const kept = new Set(top);
        points = everyPoint.filter((p) => kept.has(String(p.gkey)));
      } else if (top.length > 0) {
        points = await this.run<PointRow>(pointsQuery(metric, accountId, q, { ...source, topGroups: top, keepOther: false }));
      }
      return this.assemble(metric, q, points, totals);
    }
    let top: string[] | undefined;
    if (ranked) {
      const rankedRows = await this.run<{ gkey: string }>(topGroupsQuery(metric, accountId, q, q.limit!, source));
      top = rankedRows.map((r) => r.gkey);
    }
    const rollup = !hours && options.rollup !== false && rollupFits && (await this.sketchesReady(metric));
    const [points, totals] = await Promise.all([
      this.run<PointRow>(pointsQuery(metric, accountId, q, { ...source, topGroups: top, keepOther: q.other, rollup })),
      needsTotalsQuery ? this.run<TotalsRow>(totalsQuery(metric, accountId, q, { ...source, topGroups: top, keepOther: q.other, rollup })) : null,
    ]);
    return this.assemble(metric, q, points, totals);
  }

  private assemble(
    metric: MetricDocument,
    q: MetricDataQuery,
    points: { t: number; gkey: string; present: number; value: number | null }[],
    totals: Record<string, number | string | null>[] | null,
  ): MetricData {
    const groups = new Map<string, MetricSeriesOut & { present: (number | null)[] }>();
    for (const p of points) {
      let s = groups.get(p.gkey);
      if (!s) groups.set(p.gkey, (s = { group: this.group(q, p.gkey), points: [], total: null, present: [] }));
      // A bucket added by `fill` has no events: its value is 0, whatever the aggregation.
      const filled = Number(p.present) !== 1;
      s.points.push({ t: new Date(Number(p.t)).toISOString(), value: filled ? 0 : p.value === null ? null : Number(p.value) });
      if (Number(p.present) === 1) s.present.push(p.value === null ? null : Number(p.value));
    }
    let overall: number | null = null;
    if (totals) {
      for (const row of totals) {
        const value = row.value === null ? null : Number(row.value);
        const isOverall = Number(row.overall) === 1;
        if (isOverall) overall = value;
        // Ungrouped, the overall row is also the one series' total.
        if (isOverall && q.groupBy.length > 0) continue;
        const s = groups.get(isOverall ? '' : String(row.gkey));
        if (!s) continue;
        s.total = value;
        if (metric.type === 'histogram' && metric.buckets) s.histogram = histogram(metric.buckets, row);
      }
    } else {
      const rollup = rollupOf(metric)!;
      // No events counts as 0 (a count or a sum); a formula or a min/max of nothing has no value.
      const none = !metric.formula && (metric.aggregation === 'count' || metric.aggregation === 'sum') ? 0 : null;
      for (const s of groups.values()) s.total = rollUp(rollup, s.present) ?? none;
      overall = rollUp(rollup, [...groups.values()].flatMap((s) => s.present)) ?? none;
    }
    const series = [...groups.values()].map(({ present: _present, ...s }) => s);
    // "other" last, the rest by total descending (the order `limit` ranked them in).
    series.sort((a, b) => Number(a.group?.__other === 'true') - Number(b.group?.__other === 'true') || (b.total ?? -Infinity) - (a.total ?? -Infinity));
    return {
      metric: { id: metric._id, name: metric.name, type: metric.type, unit: metric.unit, aggregation: metric.aggregation },
      interval: q.interval,
      timezone: q.timezone,
      from: new Date(q.from).toISOString(),
      to: new Date(q.to).toISOString(),
      series,
      totals: { value: overall },
    };
  }

  private group(q: MetricDataQuery, gkey: string): Record<string, string> | null {
    if (q.groupBy.length === 0) return null;
    if (gkey === OTHER_GROUP) return { __other: 'true' };
    const values = q.groupBy.length === 1 ? [gkey] : gkey.split(GROUP_SEPARATOR);
    return Object.fromEntries(q.groupBy.map((d, i) => [d, values[i] ?? '']));
  }

  private async run<T>(query: { sql: string; params: Record<string, unknown> }): Promise<T[]> {
    return this.store.query<T>(query.sql, query.params as never).catch((err) => this.failed(err));
  }

  /** A failed query of a metric, as the API answers it. */
  private failed(err: unknown): never {
    // Definitions are checked when saved, so this is only a safety net (a definition stored
    // before that check, or an engine that changed its rules). The engine's text stays here:
    // it holds the query and the engine's version.
    if (err instanceof EventsStoreError && err.clickhouseCode === CANNOT_COMPILE_REGEXP) {
      throw ApiError.validation([{ field: 'filters', message: 'a regex filter is not a valid regular expression (RE2 syntax); replace the metric with a valid one' }]);
    }
    if (isUnknownZoneError(err)) throw unknownZone();
    throw err;
  }

  private async load(accountId: string, id: string): Promise<MetricDocument> {
    const metric = await this.repository.find(accountId, id);
    if (!metric) throw ApiError.notFound('metric');
    return metric;
  }
}

/**
 * How point values combine into totals without another query: a formula rolls up by its
 * aggregation; a count or sum adds up, a min or max takes the min or max. Null when the totals
 * need their own query (unique, avg, percentiles, histograms).
 */
function rollupOf(metric: MetricDocument): (typeof ROLLUPS)[number] | null {
  if (metric.formula) return metric.aggregation as (typeof ROLLUPS)[number];
  if (metric.type === 'histogram') return null;
  const additive: Partial<Record<Aggregation, (typeof ROLLUPS)[number]>> = { count: 'sum', sum: 'sum', min: 'min', max: 'max' };
  return additive[metric.aggregation] ?? null;
}

/** A value for ranking: null ranks last. */
const num = (v: number | string | null | undefined): number => (v === null || v === undefined ? -Infinity : Number(v));

function rollUp(how: (typeof ROLLUPS)[number], values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (how === 'count') return v.length;
  if (v.length === 0) return null;
  switch (how) {
    case 'sum':
      return v.reduce((a, b) => a + b, 0);
    case 'avg':
      return v.reduce((a, b) => a + b, 0) / v.length;
    case 'min':
      return Math.min(...v);
    case 'max':
      return Math.max(...v);
  }
}

function histogram(edges: number[], row: Record<string, number | string | null>) {
  const out = [{ from: null as number | null, to: edges[0] ?? null, count: Number(row.h0 ?? 0) }];
  edges.forEach((edge, i) => out.push({ from: edge, to: edges[i + 1] ?? null, count: Number(row[`h${i + 1}`] ?? 0) }));
  return out;
}

/** A stale If-Match: before our write (the current ETag is known) or during it (a concurrent change won). */
function preconditionFailed(currentTag?: string): ApiError {
  const why = currentTag ? `does not match the metric's current ETag ${currentTag}` : 'no longer matches: the metric changed meanwhile';
  return new ApiError(412, 'precondition_failed', `If-Match ${why}; read it again and reapply your change`);
}

function view(doc: MetricDocument): MetricView {
  const { _id, accountId: _a, ...rest } = doc;
  return { id: _id, ...rest };
}

function stripUndefined<T extends object>(doc: T): T {
  return Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined)) as T;
}

type DefinitionFields = Omit<MetricDocument, '_id' | 'accountId' | 'createdAt' | 'updatedAt' | 'version'>;

/**
 * The precision a unique count gets when its definition does not say: the one it had in
 * `previous` (a replaced metric keeps its answers; one saved before precision existed is exact),
 * else approximate.
 */
function defaultPrecision(previous: SeriesSpec | undefined): Precision {
  if (previous?.aggregation === 'unique') return previous.precision ?? 'exact';
  return 'approximate';
}

/**
 * Checks what class-validator cannot: fields resolve, filters fit their operators, the formula
 * parses. `previous` is the definition being replaced, whose unique counts keep their precision
 * when the new one does not name it.
 */
export function validateDefinition(sent: MetricDto, previous?: MetricDocument): DefinitionFields {
  // The DTO's @IsOptional lets null through: an optional field sent as null is absent.
  const dto = Object.fromEntries(Object.entries(sent).filter(([, v]) => v !== null)) as unknown as MetricDto;
  const problems: FieldProblem[] = [];
  const checkField = (value: string | undefined, path: string) => {
    if (value === undefined) return;
    try {
      resolveField(value);
    } catch (err) {
      problems.push({ field: path, message: (err as Error).message });
    }
  };
  const checkFilters = (filters: MetricFilter[] | undefined, path: string) =>
    (filters ?? []).forEach((f, i) => {
      if (typeof f !== 'object' || f === null || Array.isArray(f)) {
        return void problems.push({ field: `${path}[${i}]`, message: 'must be an object {field, op, value}' });
      }
      for (const k of Object.keys(f)) if (!FILTER_KEYS.includes(k)) problems.push({ field: `${path}[${i}].${k}`, message: 'is not a known field' });
      try {
        checkFilter(f, i);
      } catch (err) {
        if (err instanceof FilterError) problems.push({ field: `${path}[${i}].${err.field}`, message: err.message });
        else throw err;
      }
    });
  const checkSeries = (s: SeriesSpec, path: string) => {
    if (typeof s !== 'object' || s === null || Array.isArray(s)) return void problems.push({ field: path, message: 'must be an object' });
    if (!AGGREGATIONS.includes(s.aggregation)) {
      problems.push({ field: `${path}.aggregation`, message: `must be one of ${AGGREGATIONS.join(', ')}` });
    }
    for (const f of ['eventName', 'eventType', 'field'] as const) {
      const v = s[f];
      if (v !== undefined && (typeof v !== 'string' || v.length === 0 || v.length > 200)) {
        problems.push({ field: `${path}.${f}`, message: 'must be a string of 1 to 200 characters' });
      }
    }
    if (s.filters !== undefined && (!Array.isArray(s.filters) || s.filters.length > 20)) {
      return void problems.push({ field: `${path}.filters`, message: 'must be an array of at most 20 filters' });
    }
    if (NEEDS_FIELD.includes(s.aggregation) && !s.field) {
      problems.push({ field: `${path}.field`, message: `is required for aggregation ${s.aggregation} (a numeric property)` });
    }
    checkField(s.field && !['users', 'sessions'].includes(s.field) ? s.field : undefined, `${path}.field`);
    checkFilters(s.filters, `${path}.filters`);
    if (s.precision !== undefined) {
      if (!PRECISIONS.includes(s.precision)) problems.push({ field: `${path}.precision`, message: `must be one of ${PRECISIONS.join(', ')}` });
      else if (s.aggregation !== 'unique') problems.push({ field: `${path}.precision`, message: `applies to unique counts only (aggregation unique), not ${s.aggregation}` });
    }
  };

  checkFilters(dto.filters, 'filters');
  (dto.dimensions ?? []).forEach((d, i) => checkField(d, `dimensions[${i}]`));
  if (dto.formula !== undefined) {
    try {
      const names = seriesNames(parseFormula(dto.formula));
      if (names.length === 0) problems.push({ field: 'formula', message: 'must name at least one series' });
      if (names.length > 10) problems.push({ field: 'formula', message: 'may name at most 10 series' });
      if (!(ROLLUPS as readonly string[]).includes(dto.aggregation)) {
        problems.push({ field: 'aggregation', message: `of a formula metric rolls its values up: one of ${ROLLUPS.join(', ')}` });
      }
      for (const [name, s] of Object.entries(dto.series ?? {})) {
        if (!names.includes(name)) problems.push({ field: `series.${name}`, message: 'is not used by the formula' });
        // Stored as a key of the definition: document stores refuse keys starting with $.
        else if (name.startsWith('$')) problems.push({ field: `series.${name}`, message: 'must not start with $' });
        else {
          checkSeries(s, `series.${name}`);
          for (const k of typeof s === 'object' && s !== null ? Object.keys(s) : []) {
            if (!SERIES_KEYS.includes(k)) problems.push({ field: `series.${name}.${k}`, message: 'is not a known field' });
          }
        }
      }
    } catch (err) {
      if (err instanceof FormulaError) problems.push({ field: 'formula', message: err.message });
      else throw err;
    }
    for (const f of ['eventName', 'eventType', 'field'] as const) {
      if (dto[f] !== undefined) problems.push({ field: f, message: 'belongs in the series of a formula metric' });
    }
  } else {
    if (dto.series !== undefined) problems.push({ field: 'series', message: 'needs a formula' });
    if (dto.type !== 'histogram') checkSeries({ ...dto, filters: [] } as SeriesSpec, 'metric');
  }
  if (dto.type === 'histogram') {
    if (dto.formula !== undefined) problems.push({ field: 'formula', message: 'a histogram measures one numeric field, not a formula' });
    if (!dto.field) problems.push({ field: 'field', message: 'is required for a histogram (a numeric property)' });
    checkField(dto.field, 'field');
    const b = dto.buckets ?? [];
    if (b.length === 0 || b.some((x, i) => i > 0 && x <= b[i - 1]!)) {
      problems.push({ field: 'buckets', message: 'must be 1 to 50 ascending numbers (the bucket boundaries)' });
    }
    if (dto.precision !== undefined) problems.push({ field: 'precision', message: 'applies to unique counts only, not a histogram' });
  } else if (dto.buckets !== undefined) {
    problems.push({ field: 'buckets', message: 'only histograms have buckets' });
  }
  if (dto.formula !== undefined && dto.precision !== undefined) {
    problems.push({ field: 'precision', message: "belongs in the series of a formula metric (each unique count's own)" });
  }
  // Messages of single-series checks name the metric's own fields, not "metric.x".
  for (const p of problems) p.field = p.field.replace(/^metric\./, '');
  if (problems.length > 0) throw ApiError.validation(problems);
  return {
    name: dto.name.trim(),
    description: dto.description,
    type: dto.type,
    unit: dto.unit,
    aggregation: dto.aggregation,
    eventName: dto.eventName,
    eventType: dto.eventType,
    field: dto.field,
    precision:
      dto.formula === undefined && dto.type !== 'histogram' && dto.aggregation === 'unique'
        ? (dto.precision ?? defaultPrecision(previous && !previous.formula && previous.type !== 'histogram' ? previous : undefined))
        : undefined,
    formula: dto.formula,
    series: dto.series
      ? Object.fromEntries(
          Object.entries(dto.series).map(([name, s]) => [
            name,
            storedSeries(s, previous?.formula && previous.series && Object.hasOwn(previous.series, name) ? previous.series[name] : undefined),
          ]),
        )
      : undefined,
    filters: (dto.filters ?? []).map(storedFilter),
    dimensions: dto.dimensions ?? [],
    buckets: dto.buckets,
  };
}

/** A checked filter as stored: its known keys, and no value where the operator takes none. */
function storedFilter(f: MetricFilter): MetricFilter {
  return { field: f.field, op: f.op, value: f.op === 'exists' || f.op === 'not_exists' ? undefined : f.value };
}

/** A checked series as stored: its known keys only, and a unique count's precision. */
function storedSeries(s: SeriesSpec, previous: SeriesSpec | undefined): SeriesSpec {
  const { eventName, eventType, aggregation, field, filters } = s;
  const precision = aggregation === 'unique' ? (s.precision ?? defaultPrecision(previous)) : undefined;
  return stripUndefined({ eventName, eventType, aggregation, field, filters: filters?.map(storedFilter), precision });
}

/**
 * The regular expressions of a checked definition's `regex` filters, with their fields' paths
 * (`filters[0].value`, `series.sent.filters[1].value`), as validateDefinition names them.
 */
export function regexPatterns(fields: Pick<DefinitionFields, 'filters' | 'series'>): RegexCandidate[] {
  const of = (filters: MetricFilter[] | undefined, path: string) =>
    (filters ?? []).flatMap((f, i) => (f.op === 'regex' ? [{ field: `${path}[${i}].value`, pattern: String(f.value) }] : []));
  return [...of(fields.filters, 'filters'), ...Object.entries(fields.series ?? {}).flatMap(([name, s]) => of(s.filters, `series.${name}.filters`))];
}
