import type { EventsStore } from './events-store.port.js';

/** Values a migration may template into DDL (validated numbers only, never user text). */
export interface MigrationContext {
  retentionDays: number;
}

export interface Migration {
  /** Strictly increasing; never reuse or renumber a shipped migration. */
  version: number;
  name: string;
  statements: (ctx: MigrationContext) => string[];
}

const TRACKING_TABLE = 'schema_migrations';

/**
 * Applies numbered migrations once each, in order, recording them in `schema_migrations`.
 * Statements are idempotent (IF NOT EXISTS) so two replicas booting at once cannot break
 * the schema; the tracking row is written after the statements succeed.
 */
export async function migrate(store: EventsStore, migrations: Migration[], ctx: MigrationContext): Promise<number[]> {
  assertOrdered(migrations);
  await store.command(
    `CREATE TABLE IF NOT EXISTS ${TRACKING_TABLE} (version UInt32, name String, applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version`,
  );
  const rows = await store.query<{ version: number }>(`SELECT DISTINCT version FROM ${TRACKING_TABLE}`);
  const applied = new Set(rows.map((r) => Number(r.version)));
  const done: number[] = [];
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    for (const statement of m.statements(ctx)) await store.command(statement);
    await store.command(`INSERT INTO ${TRACKING_TABLE} (version, name) VALUES ({version:UInt32}, {name:String})`, {
      version: m.version,
      name: m.name,
    });
    done.push(m.version);
  }
  return done;
}

function assertOrdered(migrations: Migration[]): void {
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version <= migrations[i - 1]!.version) {
      throw new Error(`migration ${migrations[i]!.name} is out of order`);
    }
  }
}
