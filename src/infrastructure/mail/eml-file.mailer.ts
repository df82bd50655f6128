import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Logger } from '@nestjs/common';
import nodemailer, { type Transporter } from 'nodemailer';
import { fileNamePart, mailOptions } from './compose.js';
import { type Mailer, type MailMessage, MailSendError, type SentMail } from './mail.port.js';

export interface EmlFileMailerOptions {
  logger?: Pick<Logger, 'log'>;
  now?: () => Date;
}

/**
 * The embedded mailer: each message becomes an RFC 5322 file,
 * `<dir>/<UTC timestamp>-<message id>.eml`, that any mail client opens. The message is the one
 * SMTP would carry (the same composition, CRLF line ends), streamed to a temporary file, synced,
 * then renamed into place, so a reader never sees half a message.
 */
export class EmlFileMailer implements Mailer {
  readonly kind = 'eml-files' as const;
  private readonly transport: Transporter;
  private readonly logger: Pick<Logger, 'log'>;
  private readonly now: () => Date;

  constructor(
    readonly dir: string,
    private readonly from: string,
    options: EmlFileMailerOptions = {},
  ) {
    this.logger = options.logger ?? new Logger('mail');
    this.now = options.now ?? (() => new Date());
    this.transport = nodemailer.createTransport({ streamTransport: true, buffer: false, newline: 'windows', disableUrlAccess: true });
  }

  async send(message: MailMessage): Promise<SentMail> {
    const options = mailOptions(message, this.from);
    const stamp = this.now().toISOString().replace(/[:.]/g, '-');
    const name = `${stamp}-${fileNamePart(message.messageId)}.eml`;
    const file = join(this.dir, name);
    const tmp = join(this.dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await mkdir(this.dir, { recursive: true });
      const info = await this.transport.sendMail(options);
      // flush: the file is fsynced before it is closed, so the rename never publishes a torn file.
      await pipeline(info.message as Readable, createWriteStream(tmp, { flags: 'wx', mode: 0o600, flush: true }));
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      const missingFile = (err as NodeJS.ErrnoException).code === 'ENOENT';
      throw new MailSendError(`could not write the email to ${this.dir}: ${(err as Error).message}`, missingFile, undefined, { cause: err });
    }
    this.logger.log({ file, messageId: message.messageId, to: message.to }, 'email written to the outbox (SMTP_URL is not set)');
    return { messageId: message.messageId, response: file };
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
