import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { SessionsModule } from '../sessions/sessions.module.js';
import { CookielessDeviceService } from './cookieless-device.service.js';
import { EventsSearchController } from './events-search.controller.js';
import { EventsRepository } from './events.repository.js';
import { EventsSchemaService } from './events-schema.service.js';
import { EventsStoredSink } from './events-stored.sink.js';
import { IngestPipelineService } from './ingest-pipeline.service.js';
import { IngestService } from './ingest.service.js';
import { LiveEventsPublisher } from './live-events.publisher.js';
import { SearchIndexSink } from './search-index.sink.js';

/**
 * The ingest pipeline and the events schema: in every role. Sources (src/sources/) import it for
 * IngestService. Its stored-batch sinks are its own two here; other modules add theirs as
 * providers of their own (see StoredBatchSinkProvider).
 */
@Module({
  imports: [DiscoveryModule, SessionsModule],
  providers: [
    EventsSchemaService,
    EventsRepository,
    IngestPipelineService,
    IngestService,
    CookielessDeviceService,
    LiveEventsPublisher,
    SearchIndexSink,
    EventsStoredSink,
  ],
  exports: [IngestService, IngestPipelineService],
})
export class EventsModule {}

/** The event search route: only where HTTP traffic is served (ROLE=all or api). */
@Module({ imports: [EventsModule], controllers: [EventsSearchController] })
export class EventsSearchModule {}
