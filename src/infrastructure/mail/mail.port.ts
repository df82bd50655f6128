/**
 * The mail port: SMTP through nodemailer in production (SMTP_URL), `.eml` files under
 * DATA_DIR/outbox embedded. Callers hand over a complete message with its own Message-ID, so a
 * retried send of the same delivery carries the same id and a receiver (or a person) can tell a
 * duplicate apart.
 */
export const MAILER = Symbol('MAILER');

export interface MailAttachment {
  filename: string;
  contentType: string;
  /** The file's bytes, or a path to stream it from (large attachments are not read into memory). */
  content?: Buffer;
  path?: string;
  /** Set for an inline image referenced as `cid:<id>` in the HTML body. */
  cid?: string;
}

export interface MailMessage {
  /** `<unique@domain>`: deterministic per delivery (report run and recipient). */
  messageId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  attachments?: MailAttachment[];
  /** Extra headers (e.g. X-Report-Run). */
  headers?: Record<string, string>;
}

export interface SentMail {
  messageId: string;
  /** What the transport reported: the SMTP server's answer, or the .eml file written. */
  response: string;
}

export interface Mailer {
  readonly kind: 'smtp' | 'eml-files';
  /** Sends (or writes) one message; throws when the transport refused it. */
  send(message: MailMessage): Promise<SentMail>;
  close(): Promise<void>;
}

/**
 * A send that failed. `permanent` says whether sending the same message again would meet the
 * same answer (an SMTP 5xx refusal, a message the mailer cannot build) or may succeed later (a
 * 4xx answer, a server that is down or timed out), so a caller can decide to retry.
 */
export class MailSendError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    /** The SMTP server's reply (`550 5.1.1 …`), when it gave one. */
    readonly serverResponse?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MailSendError';
  }
}
