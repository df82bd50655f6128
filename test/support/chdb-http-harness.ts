import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

/**
 * Serves ClickHouse's HTTP interface from chDB (the same engine), so the ClickHouse *server*
 * adapter and @clickhouse/client are tested for real without a server on this machine.
 *
 * Protocol, as ClickHouse documents it: the query comes in the `query` URL parameter or as the
 * body; when both, the body is the query's data (INSERT … FORMAT …). `param_<name>` binds
 * `{name:Type}`; `database` picks the current database; every other parameter the client sends
 * is a setting. Errors answer 500 with `Code: N. DB::Exception: …` and X-ClickHouse-Exception-Code.
 * Each request runs on its own chDB session so that settings never leak between requests.
 */
export class ChdbHttpHarness {
  private server: Server | null = null;
  private chdb!: typeof import('chdb');
  /** While paused, every request answers 503, as an unreachable or overloaded server would. */
  paused = false;
  requests = 0;

  constructor(private readonly path: string) {}

  async start(port = 0): Promise<string> {
    this.chdb = await import('chdb');
    // ClickHouse accepts URIs up to 1 MiB (http_max_uri_size); query parameters travel in the URI.
    this.server = createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
    await this.chdb.drainPending();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests++;
    const url = new URL(req.url ?? '/', 'http://harness');
    const body = await readBody(req);
    if (this.paused) return void this.fail(res, 503, 210, 'harness is paused (simulated outage)');
    if (url.pathname === '/ping') return void res.end('Ok.\n');

    const params: Record<string, string> = {};
    const settings: string[] = [];
    let database = 'default';
    let query = '';
    for (const [key, value] of url.searchParams) {
      if (key === 'query') query = value;
      else if (key === 'database') database = value;
      else if (key.startsWith('param_')) params[key.slice(6)] = value;
      else if (['query_id', 'session_id', 'default_format', 'user', 'password', 'compress', 'decompress'].includes(key)) continue;
      else if (/^[a-z_0-9]+$/.test(key)) settings.push(`SET ${key} = ${quoteSetting(value)}`);
    }
    const text = query ? (body.length > 0 ? `${query}\n${body.toString('utf8')}` : query) : body.toString('utf8');
    const session = new this.chdb.Session(this.path);
    try {
      if (database !== 'default' && !/^\s*CREATE\s+DATABASE/i.test(text)) await session.queryAsync(`USE ${database}`);
      for (const s of settings) await session.queryAsync(s);
      const result =
        Object.keys(params).length > 0
          ? await session.queryBindAsync(text, params, { format: 'TabSeparated' })
          : await session.queryAsync(text, { format: 'TabSeparated' });
      res.setHeader('X-ClickHouse-Query-Id', url.searchParams.get('query_id') ?? randomUUID());
      res.setHeader(
        'X-ClickHouse-Summary',
        JSON.stringify({ read_rows: String(result.rowsRead), read_bytes: String(result.bytesRead) }),
      );
      res.end(Buffer.from(result.bytes()));
    } catch (err) {
      const e = err as { message?: string; clickhouseCode?: number };
      const code = e.clickhouseCode ?? 1000;
      const message = (e.message ?? String(err)).replace(/^Code: \d+\. /, '');
      this.fail(res, 500, code, message);
    } finally {
      session.close();
    }
  }

  private fail(res: ServerResponse, status: number, code: number, message: string): void {
    res.statusCode = status;
    res.setHeader('X-ClickHouse-Exception-Code', String(code));
    res.end(`Code: ${code}. ${message.startsWith('DB::Exception') ? message : `DB::Exception: ${message}`}\n`);
  }
}

function quoteSetting(value: string): string {
  return /^-?\d+(\.\d+)?$/.test(value) ? value : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
