import { Module } from '@nestjs/common';
import { InsightsController } from './insights.controller.js';
import { InsightsService } from './insights.service.js';

/** Web analytics (Event Lens / OpenPanel insights) over sessions and page views. */
@Module({ controllers: [InsightsController], providers: [InsightsService] })
export class InsightsModule {}
