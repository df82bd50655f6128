import { Inject, Injectable } from '@nestjs/common';
import { isEmail } from 'class-validator';
import type { FieldProblem } from '../common/api-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { CHANNEL_TYPES, type AccountChannelsDocument, type Channel, type ChannelRef } from './alert.types.js';
import { AlertsRepository } from './alerts.repository.js';
import { channelUrlProblem } from './notifiers/channel-url.js';

/**
 * What an alert's `channels` mean. A name (`"email"`, `"slack"`, `"webhook"`) is the account's
 * channel of that kind, set with `PUT /api/alerts/channels`; an object gives one in full
 * (`{"type": "webhook", "url": …}`, `{"type": "email", "to": […]}`). Names are looked up when
 * a notification is sent, so changing the account's channels changes every alert that names them.
 */
@Injectable()
export class ChannelResolver {
  constructor(
    private readonly repository: AlertsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Problems of a definition's `channels`, by field path. */
  async problems(accountId: string, refs: unknown, path = 'channels'): Promise<FieldProblem[]> {
    if (!Array.isArray(refs) || refs.length === 0 || refs.length > 20) return [{ field: path, message: 'must be an array of 1 to 20 channels' }];
    const account = await this.repository.channelsOf(accountId);
    const problems: FieldProblem[] = [];
    for (const [i, ref] of refs.entries()) {
      const at = `${path}[${i}]`;
      if (typeof ref === 'string') {
        if (!(CHANNEL_TYPES as readonly string[]).includes(ref)) problems.push({ field: at, message: `must be one of ${CHANNEL_TYPES.join(', ')}, or a channel object {type, url} or {type: "email", to}` });
        else if (!named(account, ref as Channel['type'])) problems.push({ field: at, message: `the account has no ${ref} channel configured; set it with PUT /api/alerts/channels, or give the channel in full` });
        continue;
      }
      if (typeof ref !== 'object' || ref === null || Array.isArray(ref)) {
        problems.push({ field: at, message: 'must be a channel name or a channel object' });
        continue;
      }
      const c = ref as Record<string, unknown>;
      const extra = Object.keys(c).filter((k) => !['type', 'url', 'to'].includes(k));
      for (const k of extra) problems.push({ field: `${at}.${k}`, message: 'is not a known field' });
      if (c.type === 'email') {
        problems.push(...emailProblems(c.to, `${at}.to`));
        if (c.url !== undefined) problems.push({ field: `${at}.url`, message: 'an email channel has recipients (to), not a URL' });
      } else if (c.type === 'slack' || c.type === 'webhook') {
        const problem = await channelUrlProblem(c.url, this.config.alerts.allowPrivateUrls);
        if (problem) problems.push({ field: `${at}.url`, message: problem });
        if (c.to !== undefined) problems.push({ field: `${at}.to`, message: `a ${c.type} channel has a URL, not recipients` });
      } else {
        problems.push({ field: `${at}.type`, message: `must be one of ${CHANNEL_TYPES.join(', ')}` });
      }
    }
    return problems;
  }

  /** The channels a notification goes to now, and why any named one cannot be used. */
  async resolve(accountId: string, refs: ChannelRef[]): Promise<{ channels: Channel[]; problems: string[] }> {
    const account = refs.some((r) => typeof r === 'string') ? await this.repository.channelsOf(accountId) : null;
    const channels: Channel[] = [];
    const problems: string[] = [];
    for (const ref of refs) {
      if (typeof ref !== 'string') channels.push(ref);
      else {
        const channel = named(account, ref);
        if (channel) channels.push(channel);
        else problems.push(`the account's ${ref} channel is not configured any more (PUT /api/alerts/channels)`);
      }
    }
    return { channels, problems };
  }

  /** Checks the account's channels as PUT /api/alerts/channels takes them. */
  async accountChannelProblems(body: unknown): Promise<FieldProblem[]> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return [{ field: 'body', message: 'must be an object {email, slack, webhook}' }];
    const b = body as Record<string, unknown>;
    const problems: FieldProblem[] = Object.keys(b)
      .filter((k) => !['email', 'slack', 'webhook'].includes(k))
      .map((field) => ({ field, message: 'is not a known channel (email, slack, webhook)' }));
    if (b.email !== undefined) problems.push(...emailProblems(b.email, 'email', true));
    for (const key of ['slack', 'webhook'] as const) {
      if (b[key] === undefined || b[key] === null) continue;
      const problem = await channelUrlProblem(b[key], this.config.alerts.allowPrivateUrls);
      if (problem) problems.push({ field: key, message: problem });
    }
    return problems;
  }
}

function named(account: AccountChannelsDocument | null, type: Channel['type']): Channel | null {
  if (!account) return null;
  if (type === 'email') return account.email.length > 0 ? { type, to: account.email } : null;
  const url = account[type];
  return url ? { type, url } : null;
}

function emailProblems(to: unknown, path: string, allowEmpty = false): FieldProblem[] {
  if (!Array.isArray(to) || (!allowEmpty && to.length === 0) || to.length > 50) {
    return [{ field: path, message: `must be an array of ${allowEmpty ? '0' : '1'} to 50 email addresses` }];
  }
  return to.flatMap((a, i) => (typeof a === 'string' && isEmail(a) ? [] : [{ field: `${path}[${i}]`, message: 'must be an email address' }]));
}
