import { WebSocket } from 'ws';

export interface WsClient {
  /** Every message received, parsed (`{type, …}`), with when it arrived (epoch ms). */
  messages: (Record<string, any> & { type: string; arrivedAt: number })[];
  closed: Promise<{ code: number; reason: string }>;
  /** The first message of `type` (and matching `where`) not yet taken by an earlier `next`. */
  next(type: string, timeoutMs?: number, where?: (m: any) => boolean): Promise<any>;
  send(message: unknown): void;
  close(): void;
  raw: WebSocket;
}

/**
 * A dashboard-like WebSocket client that records every message it receives. `auth` is a live
 * token (`?token=`) or `{ secret }` sent as `Authorization: Bearer`.
 */
export async function connectWs(url: string, auth?: string | { secret: string }, path = '/ws/analytics'): Promise<WsClient> {
  const base = `${url.replace(/^http/, 'ws')}${path}`;
  const ws =
    typeof auth === 'string'
      ? new WebSocket(`${base}${base.includes('?') ? '&' : '?'}token=${encodeURIComponent(auth)}`)
      : new WebSocket(base, auth ? { headers: { authorization: `Bearer ${auth.secret}` } } : {});
  const messages: WsClient['messages'] = [];
  const taken = new Set<object>();
  ws.on('message', (raw) => messages.push({ ...JSON.parse(String(raw)), arrivedAt: Date.now() }));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    messages,
    closed,
    raw: ws,
    async next(type, timeoutMs = 5000, where = () => true) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = messages.find((m) => m.type === type && !taken.has(m) && where(m));
        if (found) {
          taken.add(found);
          return found;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`no "${type}" message within ${timeoutMs} ms; got ${JSON.stringify(messages).slice(0, 2000)}`);
    },
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    close: () => ws.close(),
  };
}

/** A live token for a read (or admin) secret, from POST /api/live/tokens. */
export async function liveToken(url: string, secret: string, ttlSeconds?: number): Promise<string> {
  const res = await fetch(`${url}/api/live/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify(ttlSeconds ? { ttlSeconds } : {}),
  });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 201 || !body.token) throw new Error(`live token refused: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}
