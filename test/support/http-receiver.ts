import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status this receiver answered. */
  status: number;
}

/**
 * An HTTP server on 127.0.0.1 that records every POST (a Slack or webhook receiver in tests);
 * `answer(n)` picks the status of the n-th request (1-based), 200 by default.
 */
export class HttpReceiver {
  readonly requests: ReceivedRequest[] = [];
  answer: (n: number, body: string) => number = () => 200;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = this.answer(this.requests.length + 1, body);
        this.requests.push({ path: req.url ?? '', headers: req.headers, body, status });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'try again');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests answered 2xx (the deliveries the receiver accepted). */
  accepted(path?: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.status < 300 && (path === undefined || r.path === path));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
