import { Module } from '@nestjs/common';
import { SigningModule } from '../common/signing/signing.module.js';
import { InsightsModule } from '../insights/index.js';
import { MetricsModule } from '../metrics/index.js';
import { ReportFiles } from './report-files.js';
import { ReportRunner } from './report-runner.js';
import { ReportScheduler } from './report-scheduler.js';
import { ReportsController } from './reports.controller.js';
import { ReportsRepository } from './reports.repository.js';
import { ReportsService } from './reports.service.js';

/**
 * Reports: definitions, runs, generation and delivery jobs, and the scheduler. In every role:
 * an api process records runs and enqueues them, workers (and ROLE=all) generate, deliver and
 * tick the schedules.
 */
@Module({
  imports: [MetricsModule, InsightsModule, SigningModule],
  providers: [ReportsRepository, ReportFiles, ReportsService, ReportRunner, ReportScheduler],
  exports: [ReportsService, ReportsRepository, ReportFiles],
})
export class ReportsModule {}

/** The Reports API: only where HTTP traffic is served (ROLE=all or api). */
@Module({ imports: [ReportsModule, SigningModule], controllers: [ReportsController] })
export class ReportsApiModule {}
