import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { RequirePermission } from '../accounts/auth.decorators.js';
import { ApiError } from '../common/api-error.js';
import { type RegexCandidate, RegexValidator } from '../infrastructure/clickhouse/regex-validator.js';
import { parseFilters, regexPatterns } from './insights-filters.js';
import { countByOf, eventName, funnelSteps } from './insights-input.js';
import { DIMENSION_NAMES } from './insights-query.js';
import { resolveRange } from './insights-range.js';
import { InsightsService } from './insights.service.js';

type Params = Record<string, string | undefined>;

/** Breakdown endpoints and the first-event dimension each groups sessions by. */
const BREAKDOWNS: Record<string, string> = {
  'entry-pages': 'path',
  'exit-pages': 'exit',
  devices: 'device',
  browsers: 'browser',
  os: 'os',
  countries: 'country',
  regions: 'region',
  cities: 'city',
};

const UTM_PARAMS = ['source', 'medium', 'campaign', 'term', 'content'];
const DAY_S = 86_400;

function limitOf(q: Params): number {
  if (q.limit === undefined) return 10;
  const n = Number(q.limit);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw ApiError.validation([{ field: 'limit', message: 'must be an integer from 1 to 1000' }]);
  return n;
}

/**
 * Event Lens's insights API (OpenPanel's names): `projectId` is the account id, callers are its
 * read clients. Every endpoint takes `range` or `startDate`/`endDate`, `interval`, `timezone` and
 * `filters`.
 */
@Controller('insights/:projectId')
export class InsightsController {
  constructor(
    private readonly insights: InsightsService,
    private readonly regexes: RegexValidator,
  ) {}

  /** Refuses `regex` values RE2 (the store's engine) cannot compile, naming their fields. */
  private async checkRegexes(candidates: RegexCandidate[]): Promise<void> {
    const problems = await this.regexes.problems(candidates);
    if (problems.length > 0) throw ApiError.validation(problems);
  }

  @Get('metrics')
  @RequirePermission('query', { accountParam: 'projectId' })
  async metrics(@Param('projectId') accountId: string, @Query() q: Params) {
    const range = resolveRange(q);
    const filters = parseFilters(q.filters, DIMENSION_NAMES);
    await this.checkRegexes(regexPatterns(filters));
    return this.insights.metrics(accountId, range, filters);
  }

  @Get('timeseries')
  @RequirePermission('query', { accountParam: 'projectId' })
  async timeseries(@Param('projectId') accountId: string, @Query() q: Params) {
    const range = resolveRange(q);
    const filters = parseFilters(q.filters, DIMENSION_NAMES);
    await this.checkRegexes(regexPatterns(filters));
    return { interval: range.interval, series: await this.insights.timeseries(accountId, range, filters) };
  }

  @Get('live')
  @RequirePermission('query', { accountParam: 'projectId' })
  live(@Param('projectId') accountId: string) {
    return this.insights.live(accountId);
  }

  @Get('pages')
  @RequirePermission('query', { accountParam: 'projectId' })
  async pages(@Param('projectId') accountId: string, @Query() q: Params) {
    const range = resolveRange(q);
    const filters = parseFilters(q.filters, DIMENSION_NAMES);
    const limit = limitOf(q);
    await this.checkRegexes(regexPatterns(filters));
    return this.insights.pages(accountId, range, filters, limit);
  }

  @Get('referrers')
  @RequirePermission('query', { accountParam: 'projectId' })
  async referrers(@Param('projectId') accountId: string, @Query() q: Params) {
    const range = resolveRange(q);
    const filters = parseFilters(q.filters, DIMENSION_NAMES);
    if (q.by !== undefined && q.by !== 'name' && q.by !== 'type') throw ApiError.validation([{ field: 'by', message: 'must be name or type' }]);
    const limit = limitOf(q);
    await this.checkRegexes(regexPatterns(filters));
    if (q.by === 'type') return this.insights.breakdown(accountId, range, filters, 'referrer_type', limit);
    return this.insights.referrers(accountId, range, filters, limit);
  }

  @Get('utm')
  @RequirePermission('query', { accountParam: 'projectId' })
  async utm(@Param('projectId') accountId: string, @Query() q: Params) {
    const param = q.param ?? 'source';
    if (!UTM_PARAMS.includes(param)) throw ApiError.validation([{ field: 'param', message: `must be one of ${UTM_PARAMS.join(', ')}` }]);
    const range = resolveRange(q);
    const filters = parseFilters(q.filters, DIMENSION_NAMES);
    const limit = limitOf(q);
    await this.checkRegexes(regexPatterns(filters));
    return this.insights.breakdown(accountId, range, filters, `utm_${param}`, limit);
  }

  /** Ordered steps, a conversion window (`window` seconds, default a day), per profile or session. */
  @Post('funnel')
  @HttpCode(200)
  @RequirePermission('query', { accountParam: 'projectId' })
  async funnel(@Param('projectId') accountId: string, @Query() q: Params, @Body() body: unknown) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw ApiError.validation([{ field: 'body', message: 'must be an object {steps, window, countBy, range | startDate, endDate}' }]);
    }
    const b = body as Record<string, unknown>;
    const text = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : q[k]);
    const range = resolveRange({ range: text('range'), startDate: text('startDate'), endDate: text('endDate'), timezone: text('timezone'), interval: 'day' });
    const window = b.window ?? DAY_S;
    if (typeof window !== 'number' || !Number.isInteger(window) || window < 1 || window > 90 * DAY_S) {
      throw ApiError.validation([{ field: 'window', message: 'must be whole seconds from 1 to 90 days' }]);
    }
    const steps = funnelSteps(b.steps);
    const countBy = countByOf(b.countBy);
    await this.checkRegexes(steps.flatMap((s, i) => regexPatterns(s.filters, `steps[${i}].`)));
    return this.insights.funnel(accountId, range, steps, window * 1000, countBy);
  }

  /** Cohorts by first-seen `period` (day, week, month), returning on any or a chosen event. */
  @Get('retention')
  @RequirePermission('query', { accountParam: 'projectId' })
  retention(@Param('projectId') accountId: string, @Query() q: Params) {
    const period = q.period ?? q.interval ?? 'day';
    if (!['day', 'week', 'month'].includes(period)) throw ApiError.validation([{ field: 'period', message: 'must be day, week or month' }]);
    const range = resolveRange({ ...q, interval: period });
    return this.insights.retention(accountId, range, countByOf(q.countBy), eventName(q.startEvent, 'startEvent'), eventName(q.returnEvent, 'returnEvent'));
  }

  @Get(':breakdown')
  @RequirePermission('query', { accountParam: 'projectId' })
  async breakdown(@Param('projectId') accountId: string, @Param('breakdown') breakdown: string, @Query() q: Params) {
    const dimension = BREAKDOWNS[breakdown];
    if (!dimension) throw ApiError.notFound('insight');
    const range = resolveRange(q);
    const filters = parseFilters(q.filters, DIMENSION_NAMES);
    const limit = limitOf(q);
    await this.checkRegexes(regexPatterns(filters));
    return this.insights.breakdown(accountId, range, filters, dimension, limit);
  }
}
