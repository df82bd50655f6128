import { Module } from '@nestjs/common';
import { EventsController } from './events.controller.js';
import { EventsSchemaService } from './events-schema.service.js';
import { IngestPipelineService } from './ingest-pipeline.service.js';
import { IngestService } from './ingest.service.js';

@Module({
  controllers: [EventsController],
  providers: [EventsSchemaService, IngestPipelineService, IngestService],
  exports: [IngestService, IngestPipelineService],
})
export class EventsModule {}
