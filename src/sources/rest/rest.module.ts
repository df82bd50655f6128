import { Module } from '@nestjs/common';
import { EventsModule } from '../../events/index.js';
import { RestEventsController } from './rest-events.controller.js';

/** The Events API (POST /api/events, /api/events/batch): only where HTTP traffic is served. */
@Module({ imports: [EventsModule], controllers: [RestEventsController] })
export class RestSourceModule {}
