import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT_KEY } from './app.js';

const MAIN = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'src', 'main.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The service as its own OS process (what `npm start` runs), so it can be killed for real. */
export class ServiceProcess {
  private child: ChildProcess | null = null;
  url = '';
  output = '';

  constructor(
    private readonly env: Record<string, string>,
    /** `cwd`: where it runs (it reads `.env` there); `unset`: variables left out of its environment. */
    private readonly options: { cwd?: string; unset?: string[] } = {},
  ) {}

  async start(): Promise<void> {
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ROOT_API_KEY: ROOT_KEY, ...this.env, PORT: String(port), HOST: '127.0.0.1' };
    for (const name of this.options.unset ?? []) delete env[name];
    this.child = spawn(process.execPath, [MAIN], { env, cwd: this.options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`service exited at start:\n${this.output}`);
      try {
        const r = await fetch(`${this.url}/health`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`service did not start in time:\n${this.output}`);
  }

  /** Sends a signal and waits for the process to exit; returns its exit code (null if killed). */
  async stop(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    const code = await exited;
    this.child = null;
    return code;
  }
}
