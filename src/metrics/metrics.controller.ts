import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Query, Res, UsePipes } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { CurrentAccountId, RequirePermission } from '../accounts/auth.decorators.js';
import { ApiError } from '../common/api-error.js';
import { ifMatchHeader, versionTag } from '../common/entity-tag.js';
import { PageQueryDto } from '../common/page-query.dto.js';
import { ianaZone, isApiInstant } from '../common/time.js';
import { validateDtos } from '../common/validation.pipe.js';
import type { Interval } from '../infrastructure/clickhouse/query/query-kit.js';
import type { MetricDataQuery } from './metric.types.js';
import { MetricDataQueryDto, MetricDto, MetricReplaceDto } from './metrics.dto.js';
import { type MetricView, MetricsService } from './metrics.service.js';

const DAY = 86_400_000;

/**
 * Read and admin clients read metrics; only admin clients change them (authorize() decides).
 * A single metric's answers (GET, POST's 201, PUT's 200) carry its ETag, the strong validator
 * `"<version>"`, which PUT takes back in If-Match.
 */
@Controller('api/metrics')
@UsePipes(validateDtos)
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @RequirePermission('query')
  list(@CurrentAccountId() accountId: string, @Query() page: PageQueryDto) {
    return this.metrics.list(accountId, page.offset ?? 0, page.limit ?? 100);
  }

  @Post()
  @RequirePermission('manage-account')
  async create(@CurrentAccountId() accountId: string, @Body() body: MetricDto, @Res({ passthrough: true }) reply: FastifyReply) {
    return tagged(reply, await this.metrics.create(accountId, body));
  }

  @Get(':id')
  @RequirePermission('query')
  async get(@CurrentAccountId() accountId: string, @Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return tagged(reply, await this.metrics.get(accountId, id));
  }

  @Put(':id')
  @RequirePermission('manage-account')
  async replace(
    @CurrentAccountId() accountId: string,
    @Param('id') id: string,
    @Body() body: MetricReplaceDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return tagged(reply, await this.metrics.replace(accountId, id, body, ifMatchHeader(ifMatch, 'metric')));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('manage-account')
  async remove(@CurrentAccountId() accountId: string, @Param('id') id: string): Promise<void> {
    await this.metrics.remove(accountId, id);
  }

  @Get(':id/data')
  @RequirePermission('query')
  data(@CurrentAccountId() accountId: string, @Param('id') id: string, @Query() query: MetricDataQueryDto) {
    return this.metrics.data(accountId, id, dataQuery(query));
  }
}

/** The metric as the answer's body, its version as the answer's ETag. */
function tagged(reply: FastifyReply, metric: MetricView): MetricView {
  void reply.header('etag', versionTag(metric.version));
  return metric;
}

/** Defaults: the last 7 days to now, hourly up to two days of range and daily beyond, in UTC. */
export function dataQuery(q: MetricDataQueryDto, now = Date.now()): MetricDataQuery {
  const to = q.to === undefined ? now : time(q.to, 'to');
  const from = q.from === undefined ? Math.max(0, to - 7 * DAY) : time(q.from, 'from');
  if (from >= to) throw ApiError.validation([{ field: 'from', message: 'must be before to' }]);
  const timezone = ianaZone(q.timezone ?? 'UTC');
  if (timezone === null) throw ApiError.validation([{ field: 'timezone', message: `"${q.timezone}" is not an IANA time zone` }]);
  const interval: Interval = q.interval ?? (to - from <= 2 * DAY ? 'hour' : 'day');
  return { from, to, interval, timezone, groupBy: q.groupBy ?? [], limit: q.limit, other: q.other ?? false, fill: q.fill ?? false };
}

function time(value: string, field: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!isApiInstant(ms)) throw ApiError.validation([{ field, message: 'must be an ISO 8601 date or epoch milliseconds, from 1970 to 9999' }]);
  return ms;
}
