import type { Migration } from '../../migrator.js';
import { MIGRATION_0001 } from './0001-create-events.js';
import { MIGRATION_0002 } from './0002-events-by-minute.js';
import { MIGRATION_0003 } from './0003-web-context.js';
import { MIGRATION_0004 } from './0004-sessions.js';
import { MIGRATION_0005 } from './0005-session-summaries.js';
import { MIGRATION_0006 } from './0006-profile-activity.js';
import { MIGRATION_0007 } from './0007-step-events.js';
import { MIGRATION_0008 } from './0008-visitor-bitmaps.js';
import { MIGRATION_0009 } from './0009-step-firsts.js';
import { MIGRATION_0010 } from './0010-session-moves.js';
import { MIGRATION_0011 } from './0011-device-sessions-by-day.js';
import { MIGRATION_0012 } from './0012-approximate-uniques.js';
import { MIGRATION_0013 } from './0013-metric-hours.js';
import { MIGRATION_0014 } from './0014-metric-hour-values.js';

/**
 * The events store's migrations, in order. Each one is a file of literal SQL that never changes
 * once shipped (1–11 were expanded from the helpers that built them before, whitespace aside
 * identical to what those produced). To change the schema, add the next file here, and its
 * checksum to test/schema-migrations.test.ts; table and view names live in ../tables.ts.
 */
export const EVENTS_MIGRATIONS: readonly Migration[] = Object.freeze([
  MIGRATION_0001,
  MIGRATION_0002,
  MIGRATION_0003,
  MIGRATION_0004,
  MIGRATION_0005,
  MIGRATION_0006,
  MIGRATION_0007,
  MIGRATION_0008,
  MIGRATION_0009,
  MIGRATION_0010,
  MIGRATION_0011,
  MIGRATION_0012,
  MIGRATION_0013,
  MIGRATION_0014,
]);
