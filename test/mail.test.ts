import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { ConfigModule } from '../src/config/config.module.js';
import { loadConfig } from '../src/config/config.schema.js';
import { EmlFileMailer } from '../src/infrastructure/mail/eml-file.mailer.js';
import { MailModule } from '../src/infrastructure/mail/mail.module.js';
import { MAILER, type Mailer, type MailMessage, MailSendError } from '../src/infrastructure/mail/mail.port.js';
import { SmtpMailer, type SmtpMailerOptions } from '../src/infrastructure/mail/smtp.mailer.js';
import { MAILER_FROM, type Received, mailerContract } from './support/mailer.contract.js';

const quiet = { log: () => undefined, warn: () => undefined };

interface TestSmtpServer {
  port: number;
  received: Received[];
  logins: { method: string; username?: string; password?: string }[];
  close(): Promise<void>;
}

/**
 * A real SMTP server (smtp-server) on 127.0.0.1 and a free port. No STARTTLS is offered (it has
 * no certificate a client would trust), so AUTH runs in the clear, as on a local relay. With
 * `credentials`, it requires AUTH and accepts only those.
 */
async function smtpServer(options: Partial<SMTPServerOptions> = {}, credentials?: { username: string; password: string }): Promise<TestSmtpServer> {
  const received: Received[] = [];
  const logins: TestSmtpServer['logins'] = [];
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: !credentials,
    closeTimeout: 200,
    onAuth(auth, _session, callback) {
      logins.push({ method: auth.method, username: auth.username ?? undefined, password: auth.password ?? undefined });
      if (credentials && auth.username === credentials.username && auth.password === credentials.password) {
        callback(null, { user: auth.username });
      } else {
        callback(new Error('Invalid username or password'));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          raw: Buffer.concat(chunks),
          envelope: {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          },
        });
        callback(null, 'Queued as test-1');
      });
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, logins, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const smtpMailer = (url: string, options: SmtpMailerOptions = {}) => new SmtpMailer(url, MAILER_FROM, { logger: quiet, ...options });

const credentials = { username: 'reports@example.com', password: 'p@ss:wörd/1' };
const credentialsInUrl = `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}`;

mailerContract('SMTP (nodemailer to a real smtp-server, AUTH PLAIN with the credentials of SMTP_URL)', async () => {
  const server = await smtpServer({}, credentials);
  const mailer = smtpMailer(`smtp://${credentialsInUrl}@127.0.0.1:${server.port}`);
  return {
    mailer,
    received: async () => server.received,
    close: async () => {
      await mailer.close();
      await server.close();
      assert.ok(server.logins.every((l) => l.method === 'PLAIN' && l.username === credentials.username && l.password === credentials.password));
    },
  };
});

mailerContract('.eml files (embedded)', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'mail-data-')), 'outbox');
  const written: string[] = [];
  const mailer = new EmlFileMailer(dir, MAILER_FROM, { logger: { log: (o: { file: string }) => void written.push(o.file) } });
  return {
    mailer,
    received: async () => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return [];
      }
      // Only finished files: no temporary file is left behind, and each written file was logged.
      assert.deepEqual(names.filter((n) => !n.endsWith('.eml')), []);
      const files = names.sort().map((n) => join(dir, n));
      assert.deepEqual(files, [...written].sort());
      return files.map((f) => ({ raw: readFileSync(f) }));
    },
    close: () => mailer.close(),
  };
});

const simple = (to = 'bob@example.com'): MailMessage => ({
  messageId: `<t-${Math.random().toString(36).slice(2)}@analytics.example.com>`,
  to,
  subject: 'test',
  text: 'text',
  html: '<p>html</p>',
});

describe('SMTP mailer: logins and failures', () => {
  it('logs in with AUTH LOGIN when that is what the server offers', async () => {
    const server = await smtpServer({ authMethods: ['LOGIN'] }, credentials);
    const mailer = smtpMailer(`smtp://${credentialsInUrl}@127.0.0.1:${server.port}`);
    try {
      await mailer.send(simple());
      assert.deepEqual(server.logins, [{ method: 'LOGIN', ...credentials }]);
      assert.equal(server.received.length, 1);
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  it('a wrong password fails with the server\'s answer', async () => {
    const server = await smtpServer({}, credentials);
    const mailer = smtpMailer(`smtp://${encodeURIComponent(credentials.username)}:wrong@127.0.0.1:${server.port}`);
    try {
      await assert.rejects(mailer.send(simple()), (err: unknown) => {
        assert.ok(err instanceof MailSendError);
        assert.match(err.message, new RegExp(`^SMTP server 127\\.0\\.0\\.1:${server.port} refused the message at AUTH PLAIN: 535 Invalid username or password`));
        assert.equal(err.permanent, true);
        return true;
      });
      assert.equal(server.received.length, 0);
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  it('a recipient the server refuses (550 at RCPT TO) fails the send with the server\'s message', async () => {
    const server = await smtpServer({
      onRcptTo(address, _session, callback) {
        const err = Object.assign(new Error(`5.1.1 <${address.address}>: mailbox unavailable`), { responseCode: 550 });
        callback(err);
      },
    });
    const mailer = smtpMailer(`smtp://127.0.0.1:${server.port}`);
    try {
      await assert.rejects(mailer.send(simple('nobody@example.com')), (err: unknown) => {
        assert.ok(err instanceof MailSendError);
        assert.match(err.message, /refused the message at RCPT TO: 550 5\.1\.1 <nobody@example\.com>: mailbox unavailable/);
        assert.equal(err.serverResponse, '550 5.1.1 <nobody@example.com>: mailbox unavailable');
        assert.equal(err.permanent, true);
        return true;
      });
      assert.equal(server.received.length, 0);
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  it('a temporary refusal (451) is not permanent', async () => {
    const server = await smtpServer({
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error('4.7.1 try again later'), { responseCode: 451 }));
      },
    });
    const mailer = smtpMailer(`smtp://127.0.0.1:${server.port}`);
    try {
      await assert.rejects(mailer.send(simple()), (err: unknown) => err instanceof MailSendError && !err.permanent && /451 4\.7\.1 try again later/.test(err.message));
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  it('a server that is down fails at once (connection refused)', { timeout: 10_000 }, async () => {
    const port = await closedPort();
    const mailer = smtpMailer(`smtp://127.0.0.1:${port}`);
    await assert.rejects(mailer.send(simple()), (err: unknown) => {
      assert.ok(err instanceof MailSendError);
      assert.match(err.message, new RegExp(`^could not send through SMTP server 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
      assert.equal(err.permanent, false);
      return true;
    });
    await mailer.close();
  });

  it('a server that stalls after the message fails when the socket times out', { timeout: 10_000 }, async () => {
    let dataStarted = false;
    const server = await smtpServer({
      onData(stream) {
        dataStarted = true;
        stream.resume(); // takes the message, never answers
      },
    });
    const mailer = smtpMailer(`smtp://127.0.0.1:${server.port}`, { socketTimeoutMs: 300 });
    try {
      await assert.rejects(mailer.send(simple()), (err: unknown) => {
        assert.ok(err instanceof MailSendError);
        assert.match(err.message, new RegExp(`^SMTP server 127\\.0\\.0\\.1:${server.port} did not answer in time`));
        assert.equal(err.permanent, false);
        return true;
      });
      assert.ok(dataStarted, 'the stall was in DATA');
    } finally {
      await mailer.close();
      await server.close();
    }
  });

  it('refuses to send once closed', async () => {
    const mailer = smtpMailer('smtp://127.0.0.1:25');
    await mailer.close();
    await assert.rejects(mailer.send(simple()), /closed/);
  });
});

describe('.eml mailer: files', () => {
  it('names each file by its UTC time and message id, mode 0600, and answers with its path', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'mail-data-')), 'outbox');
    const mailer = new EmlFileMailer(dir, MAILER_FROM, { logger: quiet, now: () => new Date('2026-11-20T08:15:30.123Z') });
    const sent = await mailer.send({ ...simple(), messageId: '<run/42+alice@example.com>' });
    assert.equal(sent.response, join(dir, '2026-11-20T08-15-30-123Z-run_42+alice@example.com.eml'));
    assert.deepEqual(readdirSync(dir), ['2026-11-20T08-15-30-123Z-run_42+alice@example.com.eml']);
    if (process.platform !== 'win32') assert.equal(statSync(sent.response).mode & 0o777, 0o600);
  });
});

describe('MailModule picks the adapter from the configuration', () => {
  const context = async (env: Record<string, string>) => {
    const config = loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'mail-data-')), ...env });
    @Module({ imports: [ConfigModule.forRoot(config), MailModule.forRoot()] })
    class Root {}
    return { config, app: await NestFactory.createApplicationContext(Root, { logger: false }) };
  };

  it('without SMTP_URL: .eml files in DATA_DIR/outbox, From MAIL_FROM', async () => {
    const { config, app } = await context({ MAIL_FROM: MAILER_FROM });
    try {
      const mailer = app.get<Mailer>(MAILER);
      assert.equal(mailer.kind, 'eml-files');
      const sent = await mailer.send(simple());
      assert.equal(dirname(sent.response), join(config.dataDir, 'outbox'));
      assert.match(readFileSync(sent.response, 'latin1'), /^From: Analytics <analytics@example\.com>\r$/m);
    } finally {
      await app.close();
    }
  });

  it('with SMTP_URL: SMTP, closed when the application shuts down', async () => {
    const server = await smtpServer();
    const { app } = await context({ SMTP_URL: `smtp://127.0.0.1:${server.port}`, MAIL_FROM: MAILER_FROM });
    try {
      const mailer = app.get<Mailer>(MAILER);
      assert.equal(mailer.kind, 'smtp');
      await mailer.send(simple());
      assert.equal(server.received[0]!.envelope!.from, 'analytics@example.com');
      await app.close();
      await assert.rejects(mailer.send(simple()), /the mailer is closed/);
    } finally {
      await app.close();
      await server.close();
    }
  });
});
