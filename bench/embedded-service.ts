/**
 * The service on embedded defaults as a child process, for the query benchmarks: start it on a
 * data directory, call its API, stop it (SIGTERM, so the store is closed cleanly).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT_KEY = 'bench-root-key-0123456789abcdef';
const here = fileURLToPath(new URL('.', import.meta.url));

export class EmbeddedService {
  readonly base: string;
  private child: ChildProcess | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly port: number,
  ) {
    this.base = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(process.execPath, [join(here, '..', 'src', 'main.js')], {
      env: { ...process.env, DATA_DIR: this.dataDir, LOG_LEVEL: 'warn', ROOT_API_KEY: ROOT_KEY, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    // Migrations over a large load (a new rollup built from 10M events) take minutes.
    for (let i = 0; i < 18_000; i++) {
      try {
        if ((await fetch(`${this.base}/ready`)).ok) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('service did not start');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const done = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await done;
  }

  async api(method: string, path: string, secret: string, body?: unknown): Promise<any> {
    const res = await fetch(this.base + path, {
      method,
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }
}

/** The nearest-rank percentile of sorted numbers. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/** Times `runs` calls after two warm-up calls; returns sorted milliseconds and the last answer. */
export async function timeCalls(runs: number, call: () => Promise<unknown>): Promise<{ times: number[]; last: unknown; first: number }> {
  const times: number[] = [];
  let last: unknown;
  let first = 0;
  for (let i = 0; i < runs + 2; i++) {
    const started = performance.now();
    last = await call();
    if (i === 0) first = performance.now() - started;
    if (i >= 2) times.push(performance.now() - started);
  }
  return { times: times.sort((a, b) => a - b), last, first };
}
