import type { SendMailOptions } from 'nodemailer';
import { type MailMessage, MailSendError } from './mail.port.js';

/** `<left@right>` with no spaces or angle brackets inside: a msg-id as RFC 5322 §3.6.4 writes it. */
const MESSAGE_ID = /^<[^<>\s@]+@[^<>\s@]+>$/;
/** Headers the mailer writes from the message's own fields; a custom header may not replace them. */
const RESERVED_HEADERS = new Set([
  'from', 'sender', 'to', 'cc', 'bcc', 'reply-to', 'subject', 'message-id', 'date', 'mime-version',
  'content-type', 'content-transfer-encoding', 'content-disposition', 'content-id',
]);
const HEADER_NAME = /^[!-9;-~]+$/;

/**
 * The nodemailer options for one message, the same for every adapter, so SMTP and the `.eml`
 * files carry byte-for-byte the same structure. A message that could never be sent (a malformed
 * Message-ID, a custom header that would replace one of the message's own) is refused here
 * with a permanent MailSendError, before any connection is opened or file written.
 */
export function mailOptions(message: MailMessage, from: string): SendMailOptions {
  if (!MESSAGE_ID.test(message.messageId)) {
    throw new MailSendError(`messageId must look like <unique@domain>, got "${message.messageId}"`, true);
  }
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (!HEADER_NAME.test(name) || RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new MailSendError(`header "${name}" cannot be set as a custom header`, true);
    }
    if (/[\r\n]/.test(value)) throw new MailSendError(`header "${name}" must be one line`, true);
  }
  return {
    from,
    to: message.to,
    subject: message.subject,
    messageId: message.messageId,
    text: message.text,
    html: message.html,
    headers: { ...message.headers },
    attachments: (message.attachments ?? []).map((a) => {
      if ((a.content === undefined) === (a.path === undefined)) {
        throw new MailSendError(`attachment "${a.filename}" needs either content or path`, true);
      }
      return {
        filename: a.filename,
        contentType: a.contentType,
        // A path is streamed from the file when the message is written, never read whole.
        ...(a.path !== undefined ? { path: a.path } : { content: a.content }),
        ...(a.cid !== undefined ? { cid: a.cid, contentDisposition: 'inline' } : {}),
      };
    }),
  };
}

/** A message id as a file name part: angle brackets dropped, anything unusual replaced, bounded. */
export function fileNamePart(messageId: string): string {
  return messageId
    .replace(/^<|>$/g, '')
    .replace(/[^A-Za-z0-9._@+-]/g, '_')
    .slice(0, 120);
}
