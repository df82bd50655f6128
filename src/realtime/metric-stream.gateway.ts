import type { IncomingMessage } from 'node:http';
import { WebSocketGateway } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { AnalyticsGateway } from './analytics.gateway.js';
import type { LiveConnection } from './live-connection.js';
import { MAX_CLIENT_MESSAGE_BYTES } from './live-hub.service.js';
import { CLOSE_CODES } from './live-protocol.js';

/**
 * `/ws/metrics/:id`: one custom metric's value stream, a `metric` message per tick (the first a
 * snapshot), as a `metric` subscription of `/ws/analytics` with the metric's id as its name. The
 * same authentication; a metric the account does not have closes the socket with 4404. (The
 * WebSocket adapter serves exact paths: LiveWsAdapter hands `/ws/metrics/<id>` here as
 * `/ws/metrics?metricId=<id>`.)
 */
@WebSocketGateway({ path: '/ws/metrics', maxPayload: MAX_CLIENT_MESSAGE_BYTES })
export class MetricStreamGateway extends AnalyticsGateway {
  protected override async open(socket: WebSocket, accountId: string, request: IncomingMessage): Promise<LiveConnection | null> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const metricId = url.searchParams.get('metricId') ?? '';
    const points = Math.min(120, Math.max(1, Number(url.searchParams.get('points') ?? 30) || 30));
    const conn = this.hub.connect(socket, accountId);
    if (!metricId || !(await this.hub.subscribe(conn, { id: metricId, topic: 'metric', metricId, points }))) {
      this.hub.disconnect(conn);
      socket.close(CLOSE_CODES.notFound, metricId ? `no metric ${metricId.slice(0, 100)} in this account` : 'name a metric: /ws/metrics/<id>');
      return null;
    }
    return conn;
  }
}
