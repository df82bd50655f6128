import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AnalyticsGateway } from './analytics.gateway.js';

/** WebSocket gateways for live dashboards (ROLE=all or api). */
@Module({ imports: [AccountsModule], providers: [AnalyticsGateway] })
export class RealtimeModule {}
