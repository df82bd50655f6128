import type { DateRangeParam } from './report-period.js';

export const REPORT_FORMATS = ['pdf', 'xlsx', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const FORMAT_FILES: Record<ReportFormat, { extension: string; contentType: string }> = {
  pdf: { extension: 'pdf', contentType: 'application/pdf' },
  xlsx: { extension: 'xlsx', contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
  csv: { extension: 'csv', contentType: 'text/csv; charset=utf-8' },
};

export interface ReportSchedule {
  /** Five-field cron (minute hour day-of-month month day-of-week), in `timezone`. */
  cron: string;
  timezone: string;
}

/** A report definition, as stored (documents port, collection `reports`). */
export interface ReportDocumentRecord {
  _id: string;
  accountId: string;
  name: string;
  template: string;
  /** The template's parameters, checked against its declared types. */
  parameters: Record<string, unknown> & { dateRange?: DateRangeParam };
  format: ReportFormat;
  /** The zone dates and periods are read in: the schedule's, else `timezone`, else UTC. */
  timezone: string;
  schedule?: ReportSchedule;
  recipients: string[];
  /** The next scheduled time (epoch ms), for the scheduler's query; absent without a schedule. */
  nextRunAt?: number;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** Why a run was made. */
export type RunTrigger = 'created' | 'manual' | 'schedule';

/** One generation of a report (collection `report_runs`). */
export interface ReportRunRecord {
  /** A scheduled run's id is the report id and its scheduled time, so a time is run once. */
  _id: string;
  accountId: string;
  reportId: string;
  trigger: RunTrigger;
  /** The instant the period is resolved against: the scheduled time, or when it was asked for. */
  asOf: number;
  /** Scheduled runs: the time it was due. */
  scheduledAt?: number;
  /** Made after its time (the service was down when it was due). */
  late?: boolean;
  /** Earlier scheduled times that passed while the service was down, not run (one late run stands for them). */
  missed?: number;
  status: RunStatus;
  error?: string;
  format: ReportFormat;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  attempts: number;
  /** The file, relative to REPORTS_DIR. */
  file?: string;
  bytes?: number;
  period?: { from: number; to: number; label: string; inProgress: boolean };
  recipients: string[];
}

export type DeliveryStatus = 'pending' | 'sending' | 'sent' | 'failed';

/** One email of a run to one recipient (collection `report_deliveries`): the outbox. */
export interface DeliveryRecord {
  /** `<runId>|<recipient>`: the idempotency key; a retry or a second worker finds it. */
  _id: string;
  accountId: string;
  reportId: string;
  runId: string;
  recipient: string;
  messageId: string;
  status: DeliveryStatus;
  attempts: { at: number; outcome: 'sent' | 'failed' | 'interrupted'; detail: string }[];
  /** Set while an attempt is under way; an attempt found so at start was interrupted. */
  sendingSince?: number;
  sentAt?: number;
}
