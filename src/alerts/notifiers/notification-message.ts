import type { NotificationPayload } from '../alert.types.js';
import { formatNumber } from '../anomaly.js';

/** The colour of a message: red, amber or blue by severity while firing; green once resolved. */
export function messageColour(p: NotificationPayload): string {
  if (p.kind === 'resolved') return '#12b76a';
  return { critical: '#d92d20', warning: '#f79009', info: '#2e90fa' }[p.alert.severity];
}

export function headline(p: NotificationPayload): string {
  const name = p.alert.name;
  if (p.kind === 'resolved') return `[resolved] ${name} is back to normal`;
  const tag = `[${p.alert.severity}]`;
  if (p.kind === 'repeat') return `${tag} ${name} is still firing`;
  return `${tag} ${name} is firing`;
}

/** The value with the metric's unit. */
export function valueText(p: NotificationPayload): string {
  if (p.value === null) return 'no data';
  return `${formatNumber(p.value)}${p.metric.unit ? ` ${p.metric.unit}` : ''}`;
}

/** What the value was compared with: "> 5", "expected 560 to 640", "+20% vs 10". */
export function boundText(p: NotificationPayload): string {
  const b = p.bound;
  if (!b) return '—';
  if (b.lower !== undefined && b.upper !== undefined) return `${formatNumber(b.lower)} to ${formatNumber(b.upper)} (median ${formatNumber(b.expected ?? 0)})`;
  const ops: Record<string, string> = { greater_than: '>', less_than: '<', equals: '=', not_equals: '≠', change_pct_up: '+', change_pct_down: '−' };
  if (p.condition.startsWith('change_pct')) return `${ops[p.condition]}${formatNumber(b.threshold ?? 0)}% vs ${b.previous === null || b.previous === undefined ? 'no data' : formatNumber(b.previous)}`;
  return `${ops[p.condition] ?? ''} ${formatNumber(b.threshold ?? 0)}`.trim();
}

const day = (iso: string, tz: string) => new Intl.DateTimeFormat('en-GB', { timeZone: tz, dateStyle: 'medium' }).format(new Date(iso));
const clock = (iso: string, tz: string) => new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));

/** "24 Nov 2026, 14:00–15:00 UTC", or both dates when the window spans days, in the alert's zone. */
export function windowText(p: NotificationPayload): string {
  const { from, to, timezone: tz } = p.window;
  const sameDay = day(from, tz) === day(new Date(Date.parse(to) - 1).toISOString(), tz);
  const span = sameDay ? `${day(from, tz)}, ${clock(from, tz)}–${clock(to, tz)}` : `${day(from, tz)}, ${clock(from, tz)} – ${day(to, tz)}, ${clock(to, tz)}`;
  return `${span} ${tz}`;
}

export function metricText(p: NotificationPayload): string {
  return p.metric.dimension ? `${p.metric.name} (${p.metric.dimension.name} = ${p.metric.dimension.value})` : p.metric.name;
}

/** The facts every channel shows, in order: label and value. */
export function facts(p: NotificationPayload): [string, string][] {
  return [
    ['Metric', metricText(p)],
    ['Value', valueText(p)],
    [p.condition === 'anomaly' ? 'Expected' : 'Threshold', boundText(p)],
    ['Window', `${windowText(p)} (${p.window.length})`],
    ['Severity', p.alert.severity],
    ...(p.firingSince ? ([['Firing since', `${day(p.firingSince, p.window.timezone)}, ${clock(p.firingSince, p.window.timezone)} ${p.window.timezone}`]] as [string, string][]) : []),
  ];
}

/** The explanation as a sentence of its own (history entries keep it lower-case, to quote it). */
const sentence = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.');

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The email of a notification: subject, plain text and HTML saying the same. */
export function emailMessage(p: NotificationPayload): { subject: string; text: string; html: string } {
  const subject = headline(p);
  const rows = facts(p);
  const text = [subject, '', ...rows.map(([k, v]) => `${k}: ${v}`), '', sentence(p.explanation), '', `Alert: ${p.alert.url}`, `History: ${p.alert.url}/history`].join('\n');
  const html = `<!doctype html><html><body style="margin:0;padding:24px;background:#f5f6f8;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1d2939">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:640px;margin:0 auto;background:#fff;border-radius:8px;border-top:6px solid ${messageColour(p)}">
<tr><td style="padding:20px 24px 8px"><h1 style="margin:0;font-size:20px;line-height:1.3">${escapeHtml(subject)}</h1></td></tr>
<tr><td style="padding:8px 24px"><table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse;width:100%;font-size:14px">
${rows.map(([k, v]) => `<tr><td style="padding:6px 12px 6px 0;color:#667085;white-space:nowrap;vertical-align:top">${escapeHtml(k)}</td><td style="padding:6px 0">${escapeHtml(v)}</td></tr>`).join('\n')}
</table></td></tr>
<tr><td style="padding:8px 24px;font-size:14px;line-height:1.5;color:#344054">${escapeHtml(sentence(p.explanation))}</td></tr>
<tr><td style="padding:12px 24px 24px;font-size:14px"><a href="${escapeHtml(p.alert.url)}" style="color:#1570ef">The alert</a> · <a href="${escapeHtml(p.alert.url)}/history" style="color:#1570ef">its history</a></td></tr>
</table></body></html>`;
  return { subject, text, html };
}

/** A Slack incoming-webhook message: the headline, and an attachment in the severity's colour with the facts. */
export function slackMessage(p: NotificationPayload): Record<string, unknown> {
  const subject = headline(p);
  return {
    text: `${subject}: ${valueText(p)} (${p.condition === 'anomaly' && p.bound?.lower !== undefined ? `expected ${formatNumber(p.bound.lower)} to ${formatNumber(p.bound.upper!)}` : boundText(p)})`,
    attachments: [
      {
        color: messageColour(p),
        title: p.alert.name,
        title_link: p.alert.url,
        text: sentence(p.explanation),
        fields: facts(p).map(([title, value]) => ({ title, value, short: title !== 'Window' && title !== 'Metric' })),
        footer: 'Analytics alerts',
        ts: Math.floor(Date.parse(p.at) / 1000),
      },
    ],
  };
}
