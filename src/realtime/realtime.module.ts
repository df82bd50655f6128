import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { SigningModule } from '../common/signing/signing.module.js';
import { InsightsModule } from '../insights/index.js';
import { MetricsModule } from '../metrics/index.js';
import { AnalyticsGateway } from './analytics.gateway.js';
import { LiveAuthService } from './live-auth.service.js';
import { LiveHub } from './live-hub.service.js';
import { LiveTokensController } from './live-tokens.controller.js';
import { MetricStreamGateway } from './metric-stream.gateway.js';

/** Live dashboards (ROLE=all or api): tokens, the WebSocket gateways and this replica's hub. */
@Module({
  imports: [AccountsModule, SigningModule, MetricsModule, InsightsModule],
  controllers: [LiveTokensController],
  providers: [LiveHub, LiveAuthService, AnalyticsGateway, MetricStreamGateway],
  exports: [LiveHub],
})
export class RealtimeModule {}
