import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { MAILER, MailSendError, type Mailer } from '../../infrastructure/mail/mail.port.js';
import type { AlertDeliveryDocument } from '../alert.types.js';
import { channelUrlProblem } from './channel-url.js';
import { postJson, type SendOutcome } from './http-post.js';
import { emailMessage, slackMessage } from './notification-message.js';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhook-signature.js';

/**
 * Sends one delivery of the outbox on its channel: an email through the mail port, a Slack
 * incoming-webhook message, or a signed JSON webhook. Every attempt of a delivery sends the same
 * message with the same idempotency key (the delivery's id), so a receiver can drop a repeat.
 */
@Injectable()
export class ChannelSender {
  constructor(
    @Inject(MAILER) private readonly mailer: Mailer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async send(delivery: AlertDeliveryDocument, secret: string): Promise<SendOutcome> {
    const channel = delivery.channel;
    if (channel.type === 'email') return this.email(delivery, channel.to);
    // The host may have been pointed elsewhere since the alert was saved: check again.
    const problem = await channelUrlProblem(channel.url, this.config.alerts.allowPrivateUrls);
    if (problem) return { ok: false, detail: `the URL ${problem}`, permanent: true };
    if (channel.type === 'slack') return postJson(channel.url, JSON.stringify(slackMessage(delivery.payload)));
    const body = JSON.stringify(delivery.payload);
    const timestamp = String(Math.floor(Date.now() / 1000));
    return postJson(channel.url, body, {
      'idempotency-key': delivery._id,
      [TIMESTAMP_HEADER]: timestamp,
      [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
    });
  }

  private async email(delivery: AlertDeliveryDocument, to: string[]): Promise<SendOutcome> {
    const message = emailMessage(delivery.payload);
    const domain = /@([A-Za-z0-9.-]+)/.exec(this.config.mail.from)?.[1] ?? 'analytics.localhost';
    try {
      const sent = await this.mailer.send({
        messageId: `<alert-${createHash('sha256').update(delivery._id).digest('hex').slice(0, 32)}@${domain}>`,
        to: to.join(', '),
        subject: message.subject,
        text: message.text,
        html: message.html,
        headers: { 'X-Alert-Id': delivery.alertId, 'X-Alert-Notification': delivery.notificationId },
      });
      return { ok: true, detail: sent.response.slice(0, 300), permanent: false };
    } catch (err) {
      return { ok: false, detail: (err instanceof Error ? err.message : String(err)).slice(0, 300), permanent: err instanceof MailSendError && err.permanent };
    }
  }
}
