/**
 * The body of a report email: the title, the period, the KPIs and the first chart (an inline
 * PNG, `cid:`), then the full report as an attachment or a download link with its expiry.
 * HTML for mail clients — tables for layout, inline styles only, no external CSS, fonts or
 * scripts (Gmail strips <style> in some views, Outlook renders with Word) — plus a plain-text
 * alternative with the same facts. Every text from the report is HTML-escaped.
 */
import { renderChartPng } from '../charts/chart-png.js';
import { chartHeightFor } from '../charts/chart-svg.js';
import type { ChartSection, Kpi, ReportDocument } from '../report-document.js';
import { formatDateTime, formatValue, generatedText, IN_PROGRESS, periodText } from './format.js';

export interface EmailBodyOptions {
  /** The name of the report file attached to the email. */
  attachmentName?: string;
  /** Where to download the report when it is not attached (an http(s) URL)… */
  downloadUrl?: string;
  /** …and when that link stops working (epoch ms). */
  downloadExpiresAt?: number;
}

/** An image shown in the HTML as `cid:<cid>`; shaped as a mail attachment (MailAttachment). */
export interface InlineImage {
  cid: string;
  filename: string;
  contentType: 'image/png';
  content: Buffer;
}

export interface EmailBody {
  subject: string;
  text: string;
  html: string;
  inlineImages: InlineImage[];
}

/** The chart's width in the email, in CSS pixels (the PNG has twice as many, for sharp screens). */
const CHART_WIDTH = 552;
const FONT = "-apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Noto Sans', sans-serif";
const KPI_COLUMNS = 3;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

export async function renderEmailBody(doc: ReportDocument, options: EmailBodyOptions = {}): Promise<EmailBody> {
  if (options.downloadUrl !== undefined && !/^https?:\/\//i.test(options.downloadUrl)) {
    throw new Error('The download link must be an http(s) URL');
  }
  const kpis = doc.sections.flatMap((section) => (section.kind === 'kpis' ? section.kpis : []));
  const chart = doc.sections.find((section): section is ChartSection => section.kind === 'chart');
  const inlineImages: InlineImage[] = [];
  let chartHeight = 0;
  if (chart) {
    chartHeight = chartHeightFor(chart.chart, CHART_WIDTH);
    inlineImages.push({
      cid: 'chart-1@report',
      filename: 'chart.png',
      contentType: 'image/png',
      content: await renderChartPng(chart.chart, { width: CHART_WIDTH, height: chartHeight, pixelRatio: 2 }),
    });
  }
  const subject = `${doc.title}: ${periodText(doc.period)}`.replace(/[\r\n]+/g, ' ');
  return {
    subject,
    text: plainText(doc, kpis, options),
    html: html(doc, kpis, chart, chartHeight, options),
    inlineImages,
  };
}

function kpiValue(kpi: Kpi, timeZone: string): string {
  return formatValue(kpi.value, kpi.unit, timeZone);
}

function deliveryText(doc: ReportDocument, options: EmailBodyOptions): string | null {
  if (options.downloadUrl) {
    const until = options.downloadExpiresAt === undefined ? '' : ` until ${formatDateTime(options.downloadExpiresAt, doc.timezone)} (${doc.timezone})`;
    return `Download the full report (the link works${until}):`;
  }
  if (options.attachmentName) return `The full report is attached (${options.attachmentName}).`;
  return null;
}

function plainText(doc: ReportDocument, kpis: Kpi[], options: EmailBodyOptions): string {
  const lines = [doc.title];
  if (doc.subtitle) lines.push(doc.subtitle);
  lines.push('', `Period: ${periodText(doc.period)}`);
  for (const parameter of doc.parameters) lines.push(`${parameter.label}: ${parameter.value}`);
  if (kpis.length > 0) {
    lines.push('');
    for (const kpi of kpis) lines.push(`- ${kpi.label}: ${kpiValue(kpi, doc.timezone)}${kpi.note ? ` (${kpi.note})` : ''}`);
  }
  const delivery = deliveryText(doc, options);
  if (delivery) {
    lines.push('', delivery);
    if (options.downloadUrl) lines.push(options.downloadUrl);
  }
  lines.push('', generatedText(doc));
  return `${lines.join('\n')}\n`;
}

function html(doc: ReportDocument, kpis: Kpi[], chart: ChartSection | undefined, chartHeight: number, options: EmailBodyOptions): string {
  const e = escapeHtml;
  const pill = doc.period.inProgress
    ? ` <span style="background-color:#fff4e0;color:#b45309;font-size:12px;font-weight:bold;padding:2px 8px;border-radius:9px;white-space:nowrap;">${IN_PROGRESS}</span>`
    : '';
  const parameters = doc.parameters
    .map(
      (p) =>
        `<tr><td style="padding:2px 12px 2px 0;color:#6b7280;font-weight:bold;vertical-align:top;white-space:nowrap;">${e(p.label)}</td><td style="padding:2px 0;color:#111827;">${e(p.value)}</td></tr>`,
    )
    .join('');

  const kpiRows: string[] = [];
  for (let i = 0; i < kpis.length; i += KPI_COLUMNS) {
    const cells = kpis.slice(i, i + KPI_COLUMNS).map((kpi) => {
      const noteColor = kpi.note?.includes(IN_PROGRESS) ? '#b45309' : '#6b7280';
      // Every tile has a note line (empty when there is none), so the tiles of a row line up.
      const note = `<div style="font-size:11px;line-height:15px;color:${noteColor};padding-top:2px;">${kpi.note ? e(kpi.note) : '&nbsp;'}</div>`;
      return (
        `<td width="33%" valign="top" style="width:33%;padding:4px;">` +
        `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f5f7fa;border:1px solid #e5e7eb;border-radius:4px;">` +
        `<tr><td style="padding:10px 12px;font-family:${FONT};">` +
        `<div style="font-size:12px;color:#6b7280;">${e(kpi.label)}</div>` +
        `<div style="font-size:22px;line-height:28px;font-weight:bold;color:#111827;">${e(kpiValue(kpi, doc.timezone))}</div>${note}` +
        `</td></tr></table></td>`
      );
    });
    while (cells.length < KPI_COLUMNS) cells.push('<td width="33%" style="width:33%;padding:4px;">&nbsp;</td>');
    kpiRows.push(`<tr>${cells.join('')}</tr>`);
  }
  const kpiBlock = kpiRows.length
    ? `<tr><td style="padding:8px 20px 0 20px;"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">${kpiRows.join('')}</table></td></tr>`
    : '';

  const chartBlock = chart
    ? `<tr><td style="padding:16px 24px 0 24px;font-family:${FONT};">` +
      `<div style="font-size:15px;font-weight:bold;color:#111827;padding-bottom:6px;">${e(chart.title)}</div>` +
      `<img src="cid:chart-1@report" width="${CHART_WIDTH}" height="${chartHeight}" alt="${e(chart.title)}" style="display:block;width:100%;max-width:${CHART_WIDTH}px;height:auto;border:0;outline:none;">` +
      `</td></tr>`
    : '';

  const delivery = deliveryText(doc, options);
  let deliveryBlock = '';
  if (options.downloadUrl) {
    const until =
      options.downloadExpiresAt === undefined
        ? ''
        : `<div style="font-size:12px;color:#6b7280;padding-top:6px;">The link works until ${e(formatDateTime(options.downloadExpiresAt, doc.timezone))} (${e(doc.timezone)}).</div>`;
    deliveryBlock =
      `<tr><td style="padding:20px 24px 0 24px;font-family:${FONT};font-size:14px;">` +
      `<a href="${e(options.downloadUrl)}" style="display:inline-block;background-color:#2f6fdb;color:#ffffff;text-decoration:none;font-weight:bold;padding:10px 18px;border-radius:4px;">Download the full report</a>` +
      `${until}</td></tr>`;
  } else if (delivery) {
    deliveryBlock = `<tr><td style="padding:20px 24px 0 24px;font-family:${FONT};font-size:14px;color:#111827;">${e(delivery)}</td></tr>`;
  }

  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${e(doc.title)}</title></head>\n` +
    `<body style="margin:0;padding:0;background-color:#f3f4f6;">\n` +
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f3f4f6;"><tr><td align="center" style="padding:24px 8px;">\n` +
    `<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style="width:600px;max-width:600px;background-color:#ffffff;border:1px solid #e5e7eb;border-radius:6px;">\n` +
    `<tr><td style="padding:24px 24px 4px 24px;font-family:${FONT};">` +
    `<div style="font-size:22px;line-height:28px;font-weight:bold;color:#111827;">${e(doc.title)}</div>` +
    (doc.subtitle ? `<div style="font-size:14px;color:#6b7280;">${e(doc.subtitle)}</div>` : '') +
    `<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin-top:12px;font-family:${FONT};font-size:14px;">` +
    `<tr><td style="padding:2px 12px 2px 0;color:#6b7280;font-weight:bold;white-space:nowrap;">Period</td><td style="padding:2px 0;color:#111827;">${e(doc.period.label)}${pill}</td></tr>` +
    `${parameters}</table></td></tr>\n` +
    `${kpiBlock}\n${chartBlock}\n${deliveryBlock}\n` +
    `<tr><td style="padding:24px 24px 20px 24px;font-family:${FONT};font-size:12px;color:#9ca3af;">${e(generatedText(doc))}</td></tr>\n` +
    `</table>\n</td></tr></table>\n</body></html>\n`
  );
}
