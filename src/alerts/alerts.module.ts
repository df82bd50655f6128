import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/index.js';
import { AlertEvaluator } from './alert-evaluator.js';
import { AlertObserver } from './alert-observer.js';
import { AlertScheduler } from './alert-scheduler.js';
import { AlertsController } from './alerts.controller.js';
import { AlertsRepository } from './alerts.repository.js';
import { AlertsService } from './alerts.service.js';
import { ChannelResolver } from './channel-resolver.js';
import { ChannelSender } from './notifiers/channel-sender.js';

/**
 * Alerts: definitions, evaluation and delivery jobs, and the tick. In every role: an api process
 * serves definitions and backtests; workers (and ROLE=all) tick, evaluate and deliver.
 */
@Module({
  imports: [MetricsModule],
  providers: [AlertsRepository, AlertObserver, ChannelResolver, ChannelSender, AlertsService, AlertEvaluator, AlertScheduler],
  exports: [AlertsService, AlertEvaluator, AlertScheduler, AlertsRepository],
})
export class AlertsModule {}

/** The Alerts API: only where HTTP traffic is served (ROLE=all or api). */
@Module({ imports: [AlertsModule], controllers: [AlertsController] })
export class AlertsApiModule {}
