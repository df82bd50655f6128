import { Module } from '@nestjs/common';
import { SessionAssigner } from '../sessions/session-assigner.js';
import { SessionSummarizer } from '../sessions/session-summarizer.js';
import { CookielessDeviceService } from './cookieless-device.service.js';
import { EventsSearchController } from './events-search.controller.js';
import { EventsRepository } from './events.repository.js';
import { EventsSchemaService } from './events-schema.service.js';
import { IngestPipelineService } from './ingest-pipeline.service.js';
import { IngestService } from './ingest.service.js';
import { LiveEventsPublisher } from './live-events.publisher.js';

/** The ingest pipeline and the events schema: in every role. Sources (src/sources/) import it for IngestService. */
@Module({
  providers: [EventsSchemaService, EventsRepository, IngestPipelineService, IngestService, CookielessDeviceService, LiveEventsPublisher, SessionAssigner, SessionSummarizer],
  exports: [IngestService, IngestPipelineService],
})
export class EventsModule {}

/** The event search route: only where HTTP traffic is served (ROLE=all or api). */
@Module({ imports: [EventsModule], controllers: [EventsSearchController] })
export class EventsSearchModule {}
