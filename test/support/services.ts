import { Socket } from 'node:net';

/**
 * Suites that need a real Redis or NATS server. On a developer machine without the server they
 * are skipped (and say so); when .ci/run sets REQUIRE_REDIS / REQUIRE_NATS, a missing server
 * fails them instead, so CI can never pass by skipping.
 */
export const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port), hostname, () => done(true));
  });
}

/** Returns a `skip` option for describe(): false to run, or the reason to skip. Throws when required. */
export async function needs(service: 'nats' | 'redis'): Promise<false | string> {
  const url = service === 'nats' ? NATS_URL : REDIS_URL;
  const flag = service === 'nats' ? 'REQUIRE_NATS' : 'REQUIRE_REDIS';
  if (await reachable(url)) return false;
  if (process.env[flag]) throw new Error(`${service} is required (${flag} is set) but ${url} does not answer`);
  return `${service} not reachable at ${url} (set ${flag}=1 to make this a failure)`;
}

/** Removes test streams so their storage reservations do not pile up on the shared server. */
export async function deleteStreams(names: string[]): Promise<void> {
  if (names.length === 0) return;
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
  } finally {
    await nc.close();
  }
}
