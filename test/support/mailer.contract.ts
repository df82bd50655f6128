import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type AddressObject, simpleParser } from 'mailparser';
import { type Mailer, type MailMessage, MailSendError } from '../../src/infrastructure/mail/mail.port.js';

/** A message as it reached the other side: its RFC 5322 bytes and, over SMTP, the envelope. */
export interface Received {
  raw: Buffer;
  envelope?: { from: string; to: string[] };
}

export interface MailerHarness {
  /** A mailer whose From is MAILER_FROM below. */
  mailer: Mailer;
  /** Every message that arrived so far, oldest first. */
  received(): Promise<Received[]>;
  close(): Promise<void>;
}

export const MAILER_FROM = 'Analytics <analytics@example.com>';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const firstAddress = (a: AddressObject | AddressObject[] | undefined) => (Array.isArray(a) ? a[0] : a)?.value[0];

/** A binary file of a few hundred KB, every byte value present, to check attachments byte for byte. */
function binaryFile(): { path: string; bytes: Buffer } {
  const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(300 * 1024)]);
  const path = join(mkdtempSync(join(tmpdir(), 'mail-attachment-')), 'report.pdf');
  writeFileSync(path, bytes);
  return { path, bytes };
}

function message(overrides: Partial<MailMessage> = {}): MailMessage {
  const id = randomBytes(6).toString('hex');
  return {
    messageId: `<report-run-${id}.alice@analytics.example.com>`,
    to: 'Alice <alice@example.com>',
    subject: 'Weekly report — sign-ups ↑ 12 %',
    text: 'Hello Alice,\nyour weekly report is attached.\n',
    html: '<p>Hello Alice,</p><p>your weekly report is attached.</p>',
    headers: { 'X-Report-Run': `run-${id}`, 'X-Report-Id': 'weekly-signups' },
    ...overrides,
  };
}

/**
 * The mail port's contract, run against every adapter: what a receiver gets is the message as
 * given, with the caller's Message-ID and headers exactly, and attachments byte for byte.
 */
export function mailerContract(name: string, open: () => Promise<MailerHarness>) {
  describe(`mailer contract: ${name}`, () => {
    it('delivers the addresses, subject, Message-ID, both bodies and the custom headers as given', async () => {
      const h = await open();
      try {
        const m = message();
        const sent = await h.mailer.send(m);
        assert.equal(sent.messageId, m.messageId);
        assert.ok(sent.response.length > 0, 'the transport says what it did');
        const got = await h.received();
        assert.equal(got.length, 1);
        const { raw, envelope } = got[0]!;
        const parsed = await simpleParser(raw, { keepCidLinks: true });
        assert.equal(parsed.messageId, m.messageId);
        assert.match(raw.toString('latin1'), new RegExp(`^Message-ID: ${m.messageId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\r$`, 'm'));
        assert.deepEqual(firstAddress(parsed.from), { address: 'analytics@example.com', name: 'Analytics' });
        assert.deepEqual(firstAddress(parsed.to), { address: 'alice@example.com', name: 'Alice' });
        assert.equal(parsed.subject, m.subject);
        assert.equal(parsed.text, m.text);
        assert.equal(parsed.html, m.html);
        assert.equal(parsed.headers.get('x-report-run'), m.headers!['X-Report-Run']);
        assert.equal(parsed.headers.get('x-report-id'), 'weekly-signups');
        assert.match(raw.toString('latin1'), /^X-Report-Run: run-[0-9a-f]{12}\r$/m);
        assert.ok(parsed.date instanceof Date, 'a Date header is set');
        assert.doesNotMatch(raw.toString('latin1'), /(?<!\r)\n/, 'every line ends with CRLF');
        if (envelope) assert.deepEqual(envelope, { from: 'analytics@example.com', to: ['alice@example.com'] });
      } finally {
        await h.close();
      }
    });

    it('keeps attachments byte for byte: a file streamed from its path, bytes given inline, and an inline image the HTML references by cid', async () => {
      const h = await open();
      try {
        const file = binaryFile();
        const csv = Buffer.from('day,sign-ups\n2026-11-16,12\n2026-11-17,15\n');
        const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(2048)]);
        const m = message({
          html: '<p>Sign-ups this week:</p><img src="cid:chart-1@analytics" alt="chart">',
          attachments: [
            { filename: 'report.pdf', contentType: 'application/pdf', path: file.path },
            { filename: 'sign-ups.csv', contentType: 'text/csv', content: csv },
            { filename: 'chart.png', contentType: 'image/png', content: png, cid: 'chart-1@analytics' },
          ],
        });
        await h.mailer.send(m);
        const [got] = await h.received();
        const parsed = await simpleParser(got!.raw, { keepCidLinks: true });
        assert.equal(parsed.html, m.html);
        const byName = new Map(parsed.attachments.map((a) => [a.filename, a]));
        assert.deepEqual([...byName.keys()].sort(), ['chart.png', 'report.pdf', 'sign-ups.csv']);

        const pdf = byName.get('report.pdf')!;
        assert.equal(pdf.contentType, 'application/pdf');
        assert.equal(pdf.size, file.bytes.length);
        assert.equal(sha256(pdf.content), sha256(file.bytes));
        assert.equal(pdf.contentDisposition, 'attachment');

        assert.equal(sha256(byName.get('sign-ups.csv')!.content), sha256(csv));

        const chart = byName.get('chart.png')!;
        assert.equal(chart.contentType, 'image/png');
        assert.equal(chart.cid, 'chart-1@analytics');
        assert.equal(chart.contentDisposition, 'inline');
        assert.equal(chart.related, true, 'the image sits in multipart/related beside the HTML');
        assert.equal(sha256(chart.content), sha256(png));
      } finally {
        await h.close();
      }
    });

    it('fails on an attachment path that does not exist, and nothing arrives', async () => {
      const h = await open();
      try {
        const m = message({
          attachments: [{ filename: 'gone.pdf', contentType: 'application/pdf', path: join(tmpdir(), `no-such-${randomBytes(6).toString('hex')}.pdf`) }],
        });
        await assert.rejects(h.mailer.send(m), (err: unknown) => {
          assert.ok(err instanceof MailSendError);
          assert.match(err.message, /ENOENT|no such file/);
          return true;
        });
        assert.equal((await h.received()).length, 0);
      } finally {
        await h.close();
      }
    });

    it('refuses a malformed Message-ID, or a custom header that would replace one of the message\'s own, before sending', async () => {
      const h = await open();
      try {
        for (const bad of [
          message({ messageId: 'no-angle-brackets@example.com' }),
          message({ messageId: '<no-domain>' }),
          message({ messageId: '<two ids@example.com>' }),
          message({ headers: { Subject: 'other' } }),
          message({ headers: { 'message-id': '<other@example.com>' } }),
          message({ headers: { 'X-Injected': 'a\r\nBcc: someone@example.com' } }),
        ]) {
          await assert.rejects(h.mailer.send(bad), (err: unknown) => err instanceof MailSendError && err.permanent);
        }
        assert.equal((await h.received()).length, 0);
      } finally {
        await h.close();
      }
    });
  });
}
