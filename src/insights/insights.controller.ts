import { Controller, Get, Param, Query } from '@nestjs/common';
import { RequirePermission } from '../accounts/auth.decorators.js';
import { ApiError } from '../common/api-error.js';
import { parseFilters } from './insights-filters.js';
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
  constructor(private readonly insights: InsightsService) {}

  @Get('metrics')
  @RequirePermission('query', { accountParam: 'projectId' })
  metrics(@Param('projectId') accountId: string, @Query() q: Params) {
    return this.insights.metrics(accountId, resolveRange(q), parseFilters(q.filters, DIMENSION_NAMES));
  }

  @Get('timeseries')
  @RequirePermission('query', { accountParam: 'projectId' })
  async timeseries(@Param('projectId') accountId: string, @Query() q: Params) {
    const range = resolveRange(q);
    return { interval: range.interval, series: await this.insights.timeseries(accountId, range, parseFilters(q.filters, DIMENSION_NAMES)) };
  }

  @Get('live')
  @RequirePermission('query', { accountParam: 'projectId' })
  live(@Param('projectId') accountId: string) {
    return this.insights.live(accountId);
  }

  @Get('pages')
  @RequirePermission('query', { accountParam: 'projectId' })
  pages(@Param('projectId') accountId: string, @Query() q: Params) {
    return this.insights.pages(accountId, resolveRange(q), parseFilters(q.filters, DIMENSION_NAMES), limitOf(q));
  }

  @Get('referrers')
  @RequirePermission('query', { accountParam: 'projectId' })
  referrers(@Param('projectId') accountId: string, @Query() q: Params) {
    const range = resolveRange(q);
    const filters = parseFilters(q.filters, DIMENSION_NAMES);
    if (q.by === 'type') return this.insights.breakdown(accountId, range, filters, 'referrer_type', limitOf(q));
    if (q.by !== undefined && q.by !== 'name') throw ApiError.validation([{ field: 'by', message: 'must be name or type' }]);
    return this.insights.referrers(accountId, range, filters, limitOf(q));
  }

  @Get('utm')
  @RequirePermission('query', { accountParam: 'projectId' })
  utm(@Param('projectId') accountId: string, @Query() q: Params) {
    const param = q.param ?? 'source';
    if (!UTM_PARAMS.includes(param)) throw ApiError.validation([{ field: 'param', message: `must be one of ${UTM_PARAMS.join(', ')}` }]);
    return this.insights.breakdown(accountId, resolveRange(q), parseFilters(q.filters, DIMENSION_NAMES), `utm_${param}`, limitOf(q));
  }

  @Get(':breakdown')
  @RequirePermission('query', { accountParam: 'projectId' })
  breakdown(@Param('projectId') accountId: string, @Param('breakdown') breakdown: string, @Query() q: Params) {
    const dimension = BREAKDOWNS[breakdown];
    if (!dimension) throw ApiError.notFound('insight');
    return this.insights.breakdown(accountId, resolveRange(q), parseFilters(q.filters, DIMENSION_NAMES), dimension, limitOf(q));
  }
}
