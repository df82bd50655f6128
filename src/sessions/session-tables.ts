/**
 * What a session keeps of its first event, each in its own `first_<field>` column of `sessions`
 * and of the summaries (the tables are created by the frozen migrations in
 * src/infrastructure/clickhouse/schema; test/schema-migrations.test.ts checks they have these
 * columns). Adding a field needs a migration.
 */
export const FIRST_EVENT_FIELDS = [
  'path',
  'origin',
  'referrer',
  'referrer_name',
  'referrer_type',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'device_type',
  'browser',
  'os',
  'country',
  'region',
  'city',
] as const;
export type FirstEventField = (typeof FIRST_EVENT_FIELDS)[number];
