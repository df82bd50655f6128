import type { IncomingMessage } from 'node:http';
import { type OnGatewayConnection, type OnGatewayDisconnect, WebSocketGateway } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { LiveAuthService } from './live-auth.service.js';
import type { LiveConnection } from './live-connection.js';
import { LiveHub, MAX_CLIENT_MESSAGE_BYTES } from './live-hub.service.js';
import { CLOSE_CODES } from './live-protocol.js';

type LiveSocket = WebSocket & { live?: LiveConnection };

/**
 * `/ws/analytics`: a live socket per dashboard. It authenticates on connect (`?token=` from
 * `POST /api/live/tokens`, or `Authorization: Bearer <read secret>`), joins its account on this
 * replica's hub, and subscribes to topics (see live-protocol.ts and the README). Client
 * messages above 16 KiB close the socket (1009); the hub's ping every LIVE_HEARTBEAT seconds
 * ends sockets whose peer went away without closing.
 */
@WebSocketGateway({ path: '/ws/analytics', maxPayload: MAX_CLIENT_MESSAGE_BYTES })
export class AnalyticsGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    protected readonly hub: LiveHub,
    protected readonly auth: LiveAuthService,
  ) {}

  async handleConnection(socket: LiveSocket, request: IncomingMessage): Promise<void> {
    // Messages sent while authentication runs are kept and handled after it.
    const early: string[] = [];
    const keep = (data: Buffer) => early.push(String(data));
    socket.on('message', keep);
    const auth = await this.auth.authenticate(request);
    socket.off('message', keep);
    if (!auth.ok) return socket.close(auth.code, auth.reason);
    if (socket.readyState !== socket.OPEN) return;
    const conn = await this.open(socket, auth.accountId, request);
    if (!conn) return;
    socket.live = conn;
    socket.on('pong', () => (conn.alive = true));
    socket.on('message', (data: Buffer) => void this.hub.onMessage(conn, String(data)));
    for (const m of early) await this.hub.onMessage(conn, m);
  }

  /** Joins the hub (the metric stream also subscribes its metric here). */
  protected async open(socket: LiveSocket, accountId: string, _request: IncomingMessage): Promise<LiveConnection | null> {
    return this.hub.connect(socket, accountId);
  }

  handleDisconnect(socket: LiveSocket): void {
    if (socket.live) this.hub.disconnect(socket.live);
  }
}

export { CLOSE_CODES };
