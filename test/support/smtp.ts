import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

/** A real SMTP server on a free port: it keeps what it accepts; `onMessage` may refuse or hold one. */
export class TestSmtp {
  readonly accepted: ParsedMail[] = [];
  /** Messages whose DATA began (accepted or not). */
  started = 0;
  onMessage: (n: number) => 'accept' | 'refuse' | 'hold' = () => 'accept';
  private readonly held: (() => void)[] = [];
  private server!: SMTPServer;
  url = '';

  async start(): Promise<void> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream: SMTPServerDataStream, _session: SMTPServerSession, callback: (err?: Error | null) => void) => {
        const n = ++this.started;
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const decision = this.onMessage(n);
          if (decision === 'refuse') {
            const err = new Error('Try again later') as Error & { responseCode: number };
            err.responseCode = 451;
            return callback(err);
          }
          if (decision === 'hold') return void this.held.push(() => callback(new Error('released')));
          void simpleParser(Buffer.concat(chunks), { keepCidLinks: true }).then((mail) => {
            this.accepted.push(mail);
            callback();
          });
        });
      },
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const release of this.held.splice(0)) release();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  to(address: string): ParsedMail[] {
    return this.accepted.filter((m) => (Array.isArray(m.to) ? m.to : [m.to]).some((a) => a?.text.includes(address)));
  }
}

export async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

