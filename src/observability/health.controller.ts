import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { IngestPipelineService } from '../events/ingest-pipeline.service.js';
import { IngestService } from '../events/ingest.service.js';
import { StatusRegistry } from '../common/status/status.registry.js';
import { EVENTS_STORE, type EventsStore } from '../infrastructure/clickhouse/events-store.port.js';
import { DOCUMENT_STORE, type DocumentStore } from '../infrastructure/documents/documents.port.js';

@Controller()
export class HealthController {
  constructor(
    @Inject(EVENTS_STORE) private readonly events: EventsStore,
    @Inject(DOCUMENT_STORE) private readonly documents: DocumentStore,
    private readonly pipeline: IngestPipelineService,
    private readonly ingest: IngestService,
    private readonly status: StatusRegistry,
  ) {}

  /** Liveness: the process answers. */
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  /** Readiness: the stores answer; 503 otherwise, so a load balancer stops sending traffic. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const [eventsStore, documents, ingestLog] = await Promise.all([
      this.events.ping(),
      this.documents.ping(),
      this.pipeline.ping(),
    ]);
    const ready = eventsStore && documents && ingestLog;
    void reply.status(ready ? 200 : 503);
    return {
      status: ready ? 'ready' : 'unavailable',
      checks: {
        eventsStore: { kind: this.events.kind, up: eventsStore },
        documents: { kind: this.documents.kind, up: documents },
        ingestLog: { kind: this.pipeline.stats().kind, up: ingestLog },
      },
      ingest: { ...this.pipeline.stats(), ...this.ingest.stats() },
      ...this.status.snapshot(),
    };
  }
}
