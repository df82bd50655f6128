import { Module } from '@nestjs/common';
import { EventsModule } from '../../events/index.js';
import { SegmentController } from './segment.controller.js';

/** Segment's HTTP Tracking API (/v1/track, /v1/identify, …, /v1/batch) on top of the events pipeline. */
@Module({
  imports: [EventsModule],
  controllers: [SegmentController],
})
export class SegmentModule {}
