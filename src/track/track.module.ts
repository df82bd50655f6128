import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { DailySaltService } from './daily-salt.service.js';
import { TrackController } from './track.controller.js';

/** The Event Lens / OpenPanel track API on top of the events pipeline. */
@Module({
  imports: [EventsModule],
  controllers: [TrackController],
  providers: [DailySaltService],
})
export class TrackModule {}
