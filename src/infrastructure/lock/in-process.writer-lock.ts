import type { WriterLock } from './writer-lock.port.js';

/** One process: a queue per name. */
export class InProcessWriterLock implements WriterLock {
  readonly kind = 'in-process' as const;
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(fn);
    this.tails.set(name, mine);
    try {
      return await mine;
    } finally {
      if (this.tails.get(name) === mine) this.tails.delete(name);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.tails.values()]);
  }
}
