import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import { SigningService } from '../common/signing/signing.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { MAILER, MailSendError, type Mailer } from '../infrastructure/mail/mail.port.js';
import { JOB_QUEUE, type JobQueue } from '../infrastructure/queue/job-queue.port.js';
import { DELIVER_JOB, GENERATE_JOB } from './report-jobs.js';
import type { ReportDocument } from './report-document.js';
import { ReportFiles } from './report-files.js';
import { type DateRangeParam, localDay, resolvePeriod } from './report-period.js';
import { FORMAT_FILES, type DeliveryRecord, type ReportDocumentRecord, type ReportRunRecord } from './report.types.js';
import { ReportsRepository } from './reports.repository.js';
import { ReportsService } from './reports.service.js';
import { renderEmailBody } from './render/email-body.js';
import { renderReportFile } from './render/render-report.js';

/** Tries of a generation (a store that is briefly down is retried; a bad definition is not). */
const GENERATE_ATTEMPTS = 3;
/** Tries of a delivery job: backoff doubles from 2 s (2, 4, 8, 16 s). */
const DELIVER_ATTEMPTS = 5;

/** What the email of a run says, rendered once with the file and reused by every attempt. */
interface EmailParts {
  subject: string;
  text: string;
  html: string;
  /** The first chart as a PNG next to the file (cid `chart`), when the report has one. */
  chart?: { cid: string; filename: string };
  /** Attached when the file is small enough; else the body holds a signed download link. */
  attach: boolean;
}

/** A problem no retry fixes: the run fails at once with it. */
class PermanentRunError extends Error {}

/**
 * Runs the reports' jobs: generation (the template's document rendered to the run's format,
 * written atomically under REPORTS_DIR, with the email's parts beside it) and delivery (one
 * email per recipient, through an outbox: each delivery is recorded with its idempotency key
 * before it is sent and marked sent after, so a retry, a second worker or a restart after a
 * crash sends no recipient twice). Every attempt and its outcome stays in the run's history.
 */
@Injectable()
export class ReportRunner implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('reports');

  constructor(
    private readonly repository: ReportsRepository,
    private readonly reports: ReportsService,
    private readonly files: ReportFiles,
    private readonly signing: SigningService,
    @Inject(MAILER) private readonly mailer: Mailer,
    @Inject(JOB_QUEUE) private readonly jobs: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.declare(GENERATE_JOB);
    this.jobs.declare(DELIVER_JOB);
    if (this.config.role === 'api') return;
    this.jobs.register(GENERATE_JOB, (p, meta) => this.generate(p.runId, meta.attempt));
    this.jobs.register(DELIVER_JOB, (p) => this.deliver(p.runId));
  }

  /**
   * The in-process queue keeps its jobs in memory: after a crash or a `kill -9`, runs still
   * queued or running, and deliveries not sent, have no job any more. Being the only process
   * (embedded), this one takes them up again. Bull keeps jobs in Redis and retries a stalled one.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.role === 'api' || this.jobs.kind !== 'in-process') return;
    for (const run of await this.repository.unfinishedRuns()) await this.reports.enqueueGeneration(run._id);
    const runs = new Set((await this.repository.unsentDeliveries()).map((d) => d.runId));
    for (const runId of runs) await this.enqueueDelivery(runId);
  }

  private enqueueDelivery(runId: string): Promise<string> {
    return this.jobs.enqueue(DELIVER_JOB, { runId }, { jobId: `deliver:${runId}`, attempts: DELIVER_ATTEMPTS, backoffMs: 2000 });
  }

  async generate(runId: string, attempt: number): Promise<void> {
    const run = await this.repository.runById(runId);
    if (!run || run.status === 'succeeded' || run.status === 'failed') return;
    const report = await this.repository.findById(run.reportId);
    const started = Date.now();
    await this.repository.updateRun(runId, { status: 'running', startedAt: started }, { attempts: 1 });
    try {
      if (!report) throw new PermanentRunError('the report was deleted');
      const { path, bytes, period, email } = await this.render(report, run, started);
      await this.repository.updateRun(runId, { status: 'succeeded', finishedAt: Date.now(), file: path, bytes, period }, undefined, ['error']);
      this.logger.log({ report: report._id, run: runId, bytes, ms: Date.now() - started }, 'report generated');
      if (run.recipients.length > 0 && email) await this.enqueueDelivery(runId);
    } catch (err) {
      const message = errorText(err);
      const final = err instanceof PermanentRunError || attempt >= GENERATE_ATTEMPTS;
      await this.repository.updateRun(runId, { status: final ? 'failed' : 'queued', error: message, finishedAt: Date.now() });
      this.logger.warn({ report: run.reportId, run: runId, attempt, err: message }, final ? 'report failed' : 'report failed; will retry');
      if (!final) throw err;
    }
  }

  /**
   * The report as data, as of an instant (a run's scheduled or asked-for time): what every
   * format is drawn from. Tests compare its numbers with the API's.
   */
  async document(report: ReportDocumentRecord, asOf: number, now = Date.now()): Promise<ReportDocument> {
    const template = this.reports.templates.get(report.template);
    if (!template) throw new PermanentRunError(`template ${report.template} no longer exists`);
    const services = this.reports.templateServices();
    // What was valid when saved may not be now (a metric deleted since): say which parameter.
    if (template.check) {
      const problems = await template.check(report.accountId, report.parameters, services);
      if (problems.length > 0) throw new PermanentRunError(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
    }
    const range = (report.parameters.dateRange ?? template.parameters.find((p) => p.name === 'dateRange')?.default) as DateRangeParam;
    const period = resolvePeriod(range, report.timezone, asOf);
    const output = await template.build({ accountId: report.accountId, params: report.parameters, period, services }).catch((err: unknown) => {
      if (err instanceof ApiError && err.status < 500) throw new PermanentRunError(err.message);
      throw err;
    });
    return {
      title: report.name,
      subtitle: template.title,
      generatedAt: now,
      timezone: report.timezone,
      period: { from: period.from, to: period.to, label: period.label, inProgress: period.inProgress },
      parameters: output.parameters,
      sections: output.sections,
    };
  }

  private async render(report: ReportDocumentRecord, run: ReportRunRecord, now: number) {
    const doc = await this.document(report, run.asOf, now);
    const path = this.files.relativePath(report.accountId, report._id, run._id, report.format);
    const bytes = await this.files.writeAtomically(path, (tmp) => renderReportFile(doc, report.format, tmp));
    let email: EmailParts | undefined;
    if (run.recipients.length > 0) email = await this.writeEmail(doc, report, run, path, bytes);
    return { path, bytes, period: doc.period, email };
  }

  /** Renders the email once, beside the file: every attempt to every recipient sends the same. */
  private async writeEmail(doc: ReportDocument, report: ReportDocumentRecord, run: ReportRunRecord, path: string, bytes: number): Promise<EmailParts> {
    const attach = bytes <= this.config.reports.maxAttachmentBytes;
    const filename = downloadName(report, { ...run, period: doc.period });
    const ttl = this.config.reports.linkTtlHours * 3600;
    const link = attach
      ? undefined
      : { url: `${this.config.publicUrl}/api/reports/links?token=${this.signing.sign({ purpose: 'report-file', run: run._id }, ttl)}`, expiresAt: Date.now() + ttl * 1000 };
    const body = await renderEmailBody(doc, attach ? { attachmentName: filename } : { downloadUrl: link!.url, downloadExpiresAt: link!.expiresAt });
    const full = this.files.resolve(path);
    const chart = body.inlineImages[0];
    if (chart) await writeFile(`${full}.chart.png`, chart.content);
    const parts: EmailParts = {
      subject: body.subject,
      text: body.text,
      html: body.html,
      attach,
      ...(chart ? { chart: { cid: chart.cid, filename: chart.filename } } : {}),
    };
    await writeFile(`${full}.email.json`, JSON.stringify(parts));
    return parts;
  }

  async deliver(runId: string): Promise<void> {
    const run = await this.repository.runById(runId);
    if (!run || run.status !== 'succeeded' || !run.file) return;
    const report = await this.repository.findById(run.reportId);
    const full = this.files.resolve(run.file);
    const parts = JSON.parse(await readFile(`${full}.email.json`, 'utf8')) as EmailParts;
    await stat(full); // the file is there (pruned runs are not delivered)
    const failures: string[] = [];
    for (const recipient of run.recipients) {
      const key = `${runId}|${recipient}`;
      const delivery = await this.repository.delivery({
        _id: key,
        accountId: run.accountId,
        reportId: run.reportId,
        runId,
        recipient,
        messageId: `<report-${createHash('sha256').update(key).digest('hex').slice(0, 32)}@${messageDomain(this.config.mail.from)}>`,
        status: 'pending',
        attempts: [],
      });
      if (delivery.status === 'sent') continue;
      if (delivery.status === 'sending') {
        // An attempt that never finished: the worker died during it. The server may or may not
        // have the message; the same Message-ID goes out again, so a duplicate is recognisable.
        await this.repository.finishDelivery(key, { at: Date.now(), outcome: 'interrupted', detail: 'the attempt did not finish (the worker stopped during it)' }, 'failed');
      }
      if (!(await this.repository.claim(key, Date.now()))) continue;
      try {
        const sent = await this.mailer.send({
          messageId: delivery.messageId,
          to: recipient,
          subject: parts.subject,
          text: parts.text,
          html: parts.html,
          headers: { 'X-Report-Run': runId },
          attachments: [
            ...(parts.attach ? [{ filename: downloadName(report, run), contentType: FORMAT_FILES[run.format].contentType, path: full }] : []),
            ...(parts.chart ? [{ filename: parts.chart.filename, contentType: 'image/png', path: `${full}.chart.png`, cid: parts.chart.cid }] : []),
          ],
        });
        await this.repository.finishDelivery(key, { at: Date.now(), outcome: 'sent', detail: sent.response.slice(0, 500) }, 'sent');
      } catch (err) {
        const detail = errorText(err);
        await this.repository.finishDelivery(key, { at: Date.now(), outcome: 'failed', detail }, 'failed');
        failures.push(`${recipient}: ${detail}`);
        if (err instanceof MailSendError && err.permanent) this.logger.warn({ run: runId, recipient, err: detail }, 'the mail server refused the report email');
      }
    }
    // Failed recipients are tried again with backoff (the sent ones are skipped by their records).
    if (failures.length > 0) throw new Error(`report email not delivered to ${failures.length} recipient(s): ${failures.join('; ')}`);
  }
}

/** The attachment's file name: the report's name, the period's end date, the format's extension. */
export function downloadName(report: Pick<ReportDocumentRecord, 'name' | 'timezone'> | null, run: Pick<ReportRunRecord, 'format' | 'period' | 'createdAt'>): string {
  const base = (report?.name ?? 'report').replace(/[^\p{L}\p{N} ._-]+/gu, '').trim().replace(/\s+/g, '-').slice(0, 80) || 'report';
  const day = localDay(run.period ? run.period.to - 1 : run.createdAt, report?.timezone ?? 'UTC');
  return `${base}-${day}.${FORMAT_FILES[run.format].extension}`;
}

/** The domain of the From address, for Message-IDs. */
function messageDomain(from: string): string {
  return /@([A-Za-z0-9.-]+)/.exec(from)?.[1] ?? 'analytics.localhost';
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 1000);
}

export type { DeliveryRecord };
