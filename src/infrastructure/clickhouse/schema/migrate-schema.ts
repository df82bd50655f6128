import type { EventsStore } from '../events-store.port.js';
import { migrate, type MigrationContext } from '../migrator.js';
import { EVENTS_MIGRATIONS } from './migrations/index.js';
import { applyRetention } from './retention.js';

/**
 * What the service runs at boot, before the ingest pipeline starts: the migrations not applied
 * yet, then the retention step (every TTL to RETENTION_DAYS, when it changed since the last boot).
 */
export async function migrateSchema(store: EventsStore, ctx: MigrationContext): Promise<{ applied: number[]; retention: string[] }> {
  const applied = await migrate(store, EVENTS_MIGRATIONS, ctx);
  const retention = await applyRetention(store, ctx.retentionDays);
  return { applied, retention };
}
