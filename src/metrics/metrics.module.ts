import { Module } from '@nestjs/common';
import { ApproximateUniquesBackfill } from './approximate-uniques.backfill.js';
import { MetricHoursService } from './metric-hours.service.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsRepository } from './metrics.repository.js';
import { MetricsService } from './metrics.service.js';

/** Custom metrics: definitions and their series. In every role (reports read metrics on workers). */
@Module({
  providers: [MetricsRepository, MetricsService, ApproximateUniquesBackfill, MetricHoursService],
  exports: [MetricsService],
})
export class MetricsModule {}

/** The metrics API: only where HTTP traffic is served (ROLE=all or api). */
@Module({ imports: [MetricsModule], controllers: [MetricsController] })
export class MetricsApiModule {}
