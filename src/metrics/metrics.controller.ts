import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, UsePipes } from '@nestjs/common';
import { CurrentAccountId, RequirePermission } from '../accounts/auth.decorators.js';
import { PageQueryDto } from '../accounts/accounts.dto.js';
import { ApiError } from '../common/api-error.js';
import { ianaZone, isApiInstant } from '../common/time.js';
import { validateDtos } from '../common/validation.pipe.js';
import type { Interval, MetricDataQuery } from './metric.types.js';
import { MetricDataQueryDto, MetricDto } from './metrics.dto.js';
import { MetricsService } from './metrics.service.js';

const DAY = 86_400_000;

/** Read and admin clients read metrics; only admin clients change them (authorize() decides). */
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
  create(@CurrentAccountId() accountId: string, @Body() body: MetricDto) {
    return this.metrics.create(accountId, body);
  }

  @Get(':id')
  @RequirePermission('query')
  get(@CurrentAccountId() accountId: string, @Param('id') id: string) {
    return this.metrics.get(accountId, id);
  }

  @Put(':id')
  @RequirePermission('manage-account')
  replace(@CurrentAccountId() accountId: string, @Param('id') id: string, @Body() body: MetricDto) {
    return this.metrics.replace(accountId, id, body);
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
