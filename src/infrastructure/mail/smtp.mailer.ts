import { Logger } from '@nestjs/common';
import nodemailer, { type NodemailerError, type Transporter } from 'nodemailer';
import { mailOptions } from './compose.js';
import { type Mailer, type MailMessage, MailSendError, type SentMail } from './mail.port.js';

export interface SmtpMailerOptions {
  /** Time to open the TCP (or TLS) connection and get the server's greeting. Default 10 s. */
  connectionTimeoutMs?: number;
  /** Time to wait for the greeting once connected. Default 10 s. */
  greetingTimeoutMs?: number;
  /** Longest silence of the server while a command or the message is in flight. Default 60 s. */
  socketTimeoutMs?: number;
  logger?: Pick<Logger, 'log' | 'warn'>;
}

/**
 * Sends through an SMTP server (SMTP_URL: `smtp://` with STARTTLS when offered, `smtps://` for
 * TLS from the start; `user:pass@` logs in). One connection per message, no pool: reports and
 * alerts are rare, and nothing stays connected between them. The From header and envelope
 * sender are MAIL_FROM; attachments given by path are streamed from their files.
 */
export class SmtpMailer implements Mailer {
  readonly kind = 'smtp' as const;
  /** host:port, without credentials, for messages and logs. */
  readonly server: string;
  private readonly transport: Transporter;
  private readonly logger: Pick<Logger, 'log' | 'warn'>;
  private closed = false;

  constructor(
    smtpUrl: string,
    private readonly from: string,
    options: SmtpMailerOptions = {},
  ) {
    const url = new URL(smtpUrl);
    const secure = url.protocol === 'smtps:';
    this.server = `${url.hostname}:${url.port || (secure ? 465 : 587)}`;
    this.logger = options.logger ?? new Logger('mail');
    this.transport = nodemailer.createTransport({
      url: smtpUrl,
      pool: false,
      connectionTimeout: options.connectionTimeoutMs ?? 10_000,
      greetingTimeout: options.greetingTimeoutMs ?? 10_000,
      socketTimeout: options.socketTimeoutMs ?? 60_000,
      dnsTimeout: options.connectionTimeoutMs ?? 10_000,
      // Attachment paths are files on this machine, never URLs to fetch.
      disableUrlAccess: true,
    });
  }

  async send(message: MailMessage): Promise<SentMail> {
    if (this.closed) throw new MailSendError('the mailer is closed', false);
    const options = mailOptions(message, this.from);
    let info: { response?: string; rejected?: unknown[] };
    try {
      info = await this.transport.sendMail(options);
    } catch (err) {
      throw this.failure(err);
    }
    if (info.rejected && info.rejected.length > 0) {
      // The server took the message for some recipients: it is sent, and a retry would send it again to them.
      this.logger.warn({ messageId: message.messageId, rejected: info.rejected, server: this.server }, 'SMTP server refused some recipients');
    }
    return { messageId: message.messageId, response: info.response ?? '' };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.transport.close();
  }

  private failure(err: unknown): MailSendError {
    const e = err as NodemailerError;
    if (e.response) {
      const when = e.command ? ` at ${e.command}` : '';
      const permanent = e.permanent ?? (e.responseCode !== undefined && e.responseCode >= 500 && e.responseCode !== 503);
      return new MailSendError(`SMTP server ${this.server} refused the message${when}: ${e.response}`, permanent, e.response, { cause: err });
    }
    if (e.code === 'ETIMEDOUT') {
      return new MailSendError(`SMTP server ${this.server} did not answer in time: ${e.message}`, false, undefined, { cause: err });
    }
    // Connection refused, DNS, TLS, a missing attachment file: nothing the server said.
    return new MailSendError(`could not send through SMTP server ${this.server}: ${e.message}`, e.code === 'ENOENT', undefined, { cause: err });
  }
}
