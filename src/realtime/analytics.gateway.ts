import type { IncomingMessage } from 'node:http';
import { Inject, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { type OnGatewayConnection, type OnGatewayDisconnect, WebSocketGateway } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import type { Principal } from '../accounts/account.types.js';
import { AccountsService } from '../accounts/accounts.service.js';
import { authorize } from '../accounts/authorization.js';
import { ApiError } from '../common/api-error.js';
import { LIVE_EVENTS_CHANNEL, type LiveEventsMessage } from '../events/live-events.publisher.js';
import { PUBSUB, type PubSub, type Unsubscribe } from '../infrastructure/pubsub/pubsub.port.js';

/** Server → client messages on /ws/analytics, one map of names to payloads. */
export interface ServerMessages {
  ready: { accountId: string };
  'live.events': LiveEventsMessage;
}

/** WebSocket close codes: 4401 no or bad credentials, 4403 a client that may not query. */
const CLOSE = { unauthorized: 4401, forbidden: 4403 } as const;

/**
 * Live dashboards connect to /ws/analytics with a read (or admin) client secret, as
 * `Authorization: Bearer <secret>` or `?key=<secret>` (browsers cannot set headers). Each socket
 * joins its account's room; every replica relays the live bus (Redis pub/sub across replicas) to
 * its own sockets, so events ingested on any replica reach dashboards on every replica.
 */
@WebSocketGateway({ path: '/ws/analytics' })
export class AnalyticsGateway implements OnGatewayConnection, OnGatewayDisconnect, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('realtime');
  private readonly rooms = new Map<string, Set<WebSocket>>();
  private unsubscribe: Unsubscribe | null = null;

  constructor(
    private readonly accounts: AccountsService,
    @Inject(PUBSUB) private readonly pubsub: PubSub,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.pubsub.subscribe(LIVE_EVENTS_CHANNEL, (live) => {
      this.broadcast(live.accountId, 'live.events', live);
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  async handleConnection(socket: WebSocket, request: IncomingMessage): Promise<void> {
    const principal = await this.authenticate(request);
    if (!principal) return socket.close(CLOSE.unauthorized, 'missing or invalid credentials');
    try {
      authorize(principal, 'query');
    } catch (err) {
      return socket.close(CLOSE.forbidden, err instanceof ApiError ? err.message : 'forbidden');
    }
    if (principal.kind !== 'client') return socket.close(CLOSE.forbidden, 'use a client of the account');
    let room = this.rooms.get(principal.accountId);
    if (!room) this.rooms.set(principal.accountId, (room = new Set()));
    room.add(socket);
    (socket as WebSocket & { accountId?: string }).accountId = principal.accountId;
    this.send(socket, 'ready', { accountId: principal.accountId });
  }

  handleDisconnect(socket: WebSocket): void {
    const accountId = (socket as WebSocket & { accountId?: string }).accountId;
    if (!accountId) return;
    const room = this.rooms.get(accountId);
    room?.delete(socket);
    if (room?.size === 0) this.rooms.delete(accountId);
  }

  private broadcast<K extends keyof ServerMessages>(accountId: string, event: K, data: ServerMessages[K]): void {
    for (const socket of this.rooms.get(accountId) ?? []) this.send(socket, event, data);
  }

  private send<K extends keyof ServerMessages>(socket: WebSocket, event: K, data: ServerMessages[K]): void {
    if (socket.readyState !== socket.OPEN) return;
    socket.send(JSON.stringify({ event, data }), (err) => {
      if (err) this.logger.warn({ err: err.message }, 'could not send to a dashboard socket');
    });
  }

  private async authenticate(request: IncomingMessage): Promise<Principal | null> {
    const header = request.headers.authorization;
    const bearer = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
    const key = bearer ?? new URL(request.url ?? '/', 'http://localhost').searchParams.get('key') ?? undefined;
    return key ? this.accounts.authenticateSecret(key) : null;
  }
}
