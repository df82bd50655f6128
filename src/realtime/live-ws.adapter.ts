import type { Server } from 'node:http';
import { WsAdapter } from '@nestjs/platform-ws';

const METRIC_STREAM = /^\/ws\/metrics\/([^/?#]+)\/?(?:\?(.*))?$/;

/**
 * Nest's ws adapter serves gateways on exact paths. `/ws/metrics/<id>` carries the metric in
 * the path, so before the adapter routes an upgrade, this one rewrites it to
 * `/ws/metrics?metricId=<id>` (the query kept), where MetricStreamGateway listens.
 */
export class LiveWsAdapter extends WsAdapter {
  override ensureHttpServerExists(port: number, httpServer?: Server): Server {
    const server = httpServer as (Server & { liveRewrite?: boolean }) | undefined;
    if (server && !server.liveRewrite) {
      server.liveRewrite = true;
      server.prependListener('upgrade', (request) => {
        const m = METRIC_STREAM.exec(request.url ?? '');
        if (m) request.url = `/ws/metrics?metricId=${m[1]}${m[2] ? `&${m[2]}` : ''}`;
      });
    }
    return super.ensureHttpServerExists(port, httpServer) as Server;
  }
}
