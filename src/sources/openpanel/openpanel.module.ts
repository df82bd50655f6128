import { Module } from '@nestjs/common';
import { EventsModule } from '../../events/index.js';
import { OpenPanelController } from './openpanel.controller.js';

/** The Event Lens / OpenPanel track API (/track) on top of the events pipeline. */
@Module({
  imports: [EventsModule],
  controllers: [OpenPanelController],
})
export class OpenPanelModule {}
