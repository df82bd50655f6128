import type { EventsStore } from './events-store.port.js';
import { MIGRATIONS_TABLE } from './schema/tables.js';

/** Values a migration's text may name as `{name}` (validated numbers only, never user text). */
export interface MigrationContext {
  retentionDays: number;
}

export interface Migration {
  /** Strictly increasing; never reuse or renumber a shipped migration. */
  readonly version: number;
  readonly name: string;
  /**
   * Literal SQL, never edited once shipped (see schema/migrations). `{retentionDays}` is the only
   * parameter; migrationStatements substitutes it.
   */
  readonly statements: readonly string[];
}

/** A migration's statements with its parameters substituted, as they are applied. */
export function migrationStatements(migration: Migration, ctx: MigrationContext): string[] {
  const { retentionDays } = ctx;
  if (!Number.isSafeInteger(retentionDays) || retentionDays < 1) {
    throw new Error(`retentionDays must be a positive whole number, not ${retentionDays}`);
  }
  return migration.statements.map((statement) =>
    // A bound query parameter is {name:Type}, with a colon: only bare {name} is a placeholder here.
    statement.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      if (name === 'retentionDays') return String(retentionDays);
      throw new Error(`migration ${migration.version} names an unknown parameter {${name}}`);
    }),
  );
}

/**
 * Applies numbered migrations once each, in order, recording them in `schema_migrations`.
 * Statements are idempotent (IF NOT EXISTS) so two replicas booting at once cannot break
 * the schema; the tracking row is written after the statements succeed.
 */
export async function migrate(store: EventsStore, migrations: readonly Migration[], ctx: MigrationContext): Promise<number[]> {
  assertOrdered(migrations);
  await store.command(
    `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version UInt32, name String, applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version`,
  );
  const rows = await store.query<{ version: number }>(`SELECT DISTINCT version FROM ${MIGRATIONS_TABLE}`);
  const applied = new Set(rows.map((r) => Number(r.version)));
  const done: number[] = [];
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    for (const statement of migrationStatements(m, ctx)) await store.command(statement);
    await store.command(`INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES ({version:UInt32}, {name:String})`, {
      version: m.version,
      name: m.name,
    });
    done.push(m.version);
  }
  return done;
}

function assertOrdered(migrations: readonly Migration[]): void {
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version <= migrations[i - 1]!.version) {
      throw new Error(`migration ${migrations[i]!.name} is out of order`);
    }
  }
}
