import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ReportFiles } from './report-files.js';
import { LATE_AFTER_MS, lastRunAtOrBefore, nextRunAfter } from './report-schedule.js';
import { ReportsRepository } from './reports.repository.js';
import { ReportsService } from './reports.service.js';

const DAY = 86_400_000;

/**
 * Fires scheduled reports (with @nestjs/schedule, on every worker). Each tick, at second 0 of
 * every minute, takes the definitions whose next time has come and records one run for the
 * latest time due; the run's id is the report and that time, so however many replicas tick, a
 * time is run once (the documents store refuses the second insert). The tick only records and
 * enqueues: generation is a job. Times missed while the service was down are not run one by
 * one: one run is made for the latest, marked late, with the count of the ones it stands for.
 */
@Injectable()
export class ReportScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('report-scheduler');
  private ticking = false;

  constructor(
    private readonly repository: ReportsRepository,
    private readonly reports: ReportsService,
    private readonly files: ReportFiles,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A first tick at start, so a run missed while the service was down is made at once. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.role === 'api') return;
    await this.tick();
  }

  @Cron('0 * * * * *', { name: 'reports-tick' })
  async onTick(): Promise<void> {
    if (this.config.role === 'api') return;
    await this.tick();
  }

  /** Records and enqueues every run due at `now`; returns how many this replica made. */
  async tick(now = Date.now()): Promise<number> {
    if (this.ticking) return 0;
    this.ticking = true;
    let made = 0;
    try {
      for (const report of await this.repository.due(now)) {
        const schedule = report.schedule;
        const due = report.nextRunAt;
        if (!schedule || due === undefined) continue;
        try {
          const at = lastRunAtOrBefore(schedule, now);
          const missed = countBetween(schedule, due, at);
          const { created } = await this.reports.requestRun(report, 'schedule', { at, late: now - at > LATE_AFTER_MS, missed });
          if (created) made++;
          await this.repository.advance(report._id, due, nextRunAfter(schedule, at));
        } catch (err) {
          this.logger.error({ report: report._id, err }, 'could not start a scheduled report');
        }
      }
    } finally {
      this.ticking = false;
    }
    return made;
  }

  /** Once a day: runs older than REPORTS_RETENTION_DAYS go, with their files and deliveries. */
  @Cron('0 17 3 * * *', { name: 'reports-prune' })
  async onPrune(): Promise<void> {
    if (this.config.role === 'api') return;
    await this.prune();
  }

  async prune(now = Date.now()): Promise<number> {
    const cutoff = now - this.config.reports.retentionDays * DAY;
    let removed = 0;
    for (;;) {
      const old = await this.repository.runsBefore(cutoff, 500);
      if (old.length === 0) break;
      for (const run of old) if (run.file) await this.files.removeRun(run.file);
      await this.repository.removeRuns(old.map((r) => r._id));
      removed += old.length;
    }
    if (removed > 0) this.logger.log({ removed, retentionDays: this.config.reports.retentionDays }, 'pruned report runs');
    return removed;
  }
}

/** How many scheduled times lie in [from, to) (the ones a late run stands for), up to 10,000. */
function countBetween(schedule: { cron: string; timezone: string }, from: number, to: number): number {
  let n = 0;
  for (let t = from; t < to && n < 10_000; t = nextRunAfter(schedule, t)) n++;
  return n;
}
