import { WebSocket } from 'ws';

export interface WsClient {
  messages: { event: string; data: any }[];
  closed: Promise<{ code: number; reason: string }>;
  next(event: string, timeoutMs?: number, where?: (data: any) => boolean): Promise<any>;
  close(): void;
}

/** A dashboard-like WebSocket client that records every message it receives. */
export async function connectWs(url: string, key?: string): Promise<WsClient> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/analytics${key ? `?key=${encodeURIComponent(key)}` : ''}`);
  const messages: { event: string; data: any }[] = [];
  ws.on('message', (raw) => messages.push(JSON.parse(String(raw))));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    messages,
    closed,
    async next(event, timeoutMs = 5000, where = () => true) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = messages.find((m) => m.event === event && where(m.data));
        if (found) return found.data;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`no "${event}" message within ${timeoutMs} ms; got ${JSON.stringify(messages)}`);
    },
    close: () => ws.close(),
  };
}
