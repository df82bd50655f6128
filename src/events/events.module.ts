import { Module } from '@nestjs/common';
import { SessionAssigner } from '../sessions/session-assigner.js';
import { SessionSummarizer } from '../sessions/session-summarizer.js';
import { EventsController } from './events.controller.js';
import { EventsRepository } from './events.repository.js';
import { EventsSchemaService } from './events-schema.service.js';
import { IngestPipelineService } from './ingest-pipeline.service.js';
import { IngestService } from './ingest.service.js';
import { LiveEventsPublisher } from './live-events.publisher.js';

/** The ingest pipeline and the events schema: in every role. */
@Module({
  providers: [EventsSchemaService, EventsRepository, IngestPipelineService, IngestService, LiveEventsPublisher, SessionAssigner, SessionSummarizer],
  exports: [IngestService, IngestPipelineService],
})
export class EventsModule {}

/** The Events API routes: only where HTTP traffic is served (ROLE=all or api). */
@Module({ imports: [EventsModule], controllers: [EventsController] })
export class EventsApiModule {}
