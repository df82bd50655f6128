import { Module } from '@nestjs/common';
import { InsightsController } from './insights.controller.js';
import { InsightsService } from './insights.service.js';

/** Web analytics (Event Lens / OpenPanel insights) over sessions and page views: in every role. */
@Module({ providers: [InsightsService], exports: [InsightsService] })
export class InsightsModule {}

/** The insights API: only where HTTP traffic is served (ROLE=all or api). */
@Module({ imports: [InsightsModule], controllers: [InsightsController] })
export class InsightsApiModule {}
