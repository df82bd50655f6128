import { type DynamicModule, Module } from '@nestjs/common';
import { AccountsModule } from './accounts/accounts.module.js';
import { SigningModule } from './common/signing/signing.module.js';
import { ConfigModule } from './config/config.module.js';
import type { AppConfig } from './config/config.schema.js';
import { EventsModule, EventsSearchModule } from './events/events.module.js';
import { InfrastructureModule, type InfrastructureOverrides } from './infrastructure/infrastructure.module.js';
import { InsightsApiModule } from './insights/insights.module.js';
import { MetricsApiModule } from './metrics/metrics.module.js';
import { ProfilesModule } from './profiles/profiles.module.js';
import { ReportsApiModule, ReportsModule } from './reports/reports.module.js';
import { AlertsApiModule, AlertsModule } from './alerts/alerts.module.js';
import { ScheduleModule } from '@nestjs/schedule';
import { ObservabilityModule } from './observability/observability.module.js';
import { DashboardModule } from './realtime/dashboard.module.js';
import { RealtimeModule } from './realtime/realtime.module.js';
import { OpenPanelModule } from './sources/openpanel/openpanel.module.js';
import { RestSourceModule } from './sources/rest/rest.module.js';
import { FechatterModule } from './sources/fechatter/fechatter.module.js';
import { StatusModule } from './common/status/status.registry.js';
import { SegmentModule } from './sources/segment/segment.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, overrides: InfrastructureOverrides = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        StatusModule,
        InfrastructureModule.forRoot(config, overrides),
        // Here so the signing key exists from the first start; features import SigningModule themselves.
        SigningModule,
        // Timers of @nestjs/schedule (the reports' scheduler): their handlers stand down on ROLE=api.
        ScheduleModule.forRoot(),
        EventsModule,
        ObservabilityModule,
        ReportsModule,
        AlertsModule,
        // Fechatter's HTTP API where HTTP is served, its NATS stream where background work runs.
        FechatterModule.forRoot(config),
        // A worker serves only /health and /ready; the API modules stay out of it.
        ...(config.role === 'worker' ? [] : [AccountsModule, RestSourceModule, OpenPanelModule, SegmentModule, EventsSearchModule, MetricsApiModule, InsightsApiModule, ReportsApiModule, AlertsApiModule, ProfilesModule, RealtimeModule, DashboardModule]),
      ],
    };
  }
}
