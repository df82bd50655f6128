/** What the app and other features use of alerts: the modules, and the services tests and benches drive. */
export { AlertsApiModule, AlertsModule } from './alerts.module.js';
export { AlertsService } from './alerts.service.js';
export { AlertEvaluator } from './alert-evaluator.js';
export { AlertScheduler } from './alert-scheduler.js';
export { AlertsRepository } from './alerts.repository.js';
