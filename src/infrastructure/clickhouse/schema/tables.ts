/**
 * Every table and view of the events store, by name. Queries and modules take names from here;
 * the migrations (./migrations) spell them out in their frozen SQL, and
 * test/schema-migrations.test.ts checks that a migrated store holds exactly CURRENT_OBJECTS.
 */

/** The migrator's record of applied versions. */
export const MIGRATIONS_TABLE = 'schema_migrations';

/** Every event, one row each (migration 1; web columns from 3). */
export const EVENTS_TABLE = 'events';

/** Events per account, minute, event name and type: counts, exact user and session sets and their uniqCombined64 sketches. */
export const ROLLUP_TABLE = 'events_by_minute';
export const ROLLUP_VIEW = 'events_by_minute_mv';

/** Progress of the backfills that fill a new column of existing rows in bounded chunks after boot (migration 12). */
export const BACKFILLS_TABLE = 'backfills';

/** The materialized state of every session, one partial row per session and insert. */
export const SESSIONS_TABLE = 'sessions';
export const SESSIONS_VIEW = 'sessions_mv';

/** The session assigner's state: per account, device and session, its start and last event. */
export const DEVICE_SESSIONS_TABLE = 'device_sessions_by_day';

/** Session summaries and their rollups (see src/sessions/session-summaries.ts). */
export const SESSION_DELTAS_TABLE = 'session_deltas';
export const SESSION_LATEST_TABLE = 'session_latest';
export const SESSION_ROLLUP_TABLE = 'session_rollup';
export const SESSION_ROLLUP_VIEW = 'session_rollup_mv';
export const VISITOR_IDS_TABLE = 'visitor_ids';
export const VISITOR_BITMAPS_TABLE = 'visitor_bitmaps';
export const VISITOR_BITMAPS_VIEW = 'visitor_bitmaps_mv';
export const VISITOR_REMOVALS_TABLE = 'visitor_removals';
export const VISITOR_REMOVALS_VIEW = 'visitor_removals_mv';
export const PAGE_ROLLUP_TABLE = 'page_rollup';
export const PAGE_ROLLUP_VIEW = 'page_rollup_mv';
export const SESSION_MOVES_TABLE = 'session_moves';

/** Page titles (the last one seen), for the pages insight. */
export const PAGE_TITLES_TABLE = 'page_titles';
export const PAGE_TITLES_VIEW = 'page_titles_mv';

/** Who was active when (a profile hash per 15 minutes), for retention. */
export const ACTIVITY_TABLE = 'profile_activity';
export const ACTIVITY_VIEW = 'profile_activity_mv';

/** Every event as name, time and hashed profile and session, for funnels. */
export const STEP_EVENTS_TABLE = 'step_events';
export const STEP_EVENTS_VIEW = 'step_events_mv';

/** The first time of each event name per profile or session and UTC day, for funnel entries. */
export const STEP_FIRSTS_TABLE = 'step_firsts';
export const STEP_FIRSTS_VIEW = 'step_firsts_mv';

/** Per-metric states by UTC hour and group, which hours hold them, and the hours late inserts changed (migration 13). */
export const METRIC_HOURS_TABLE = 'metric_hours';
export const METRIC_HOUR_MARKS_TABLE = 'metric_hour_marks';
export const LATE_HOURS_TABLE = 'late_event_hours';
export const LATE_HOURS_VIEW = 'late_event_hours_mv';
/** Unique counts' states merged over a range's computed hours (migration 14). */
export const METRIC_SPANS_TABLE = 'metric_spans';

/** Dropped by a migration; named here so nothing else spells them. */
export const OLD_DEVICE_SESSIONS_TABLE = 'device_sessions'; // the assigner's state before migration 11
export const OLD_VISITOR_ROLLUP_TABLE = 'visitor_rollup'; // hashed visitors per bucket, before migration 8
export const OLD_VISITOR_ROLLUP_VIEW = 'visitor_rollup_mv';

/** What a store holds after every migration, tables and views. */
export const CURRENT_OBJECTS: readonly string[] = Object.freeze([
  MIGRATIONS_TABLE,
  EVENTS_TABLE,
  ROLLUP_TABLE,
  ROLLUP_VIEW,
  BACKFILLS_TABLE,
  SESSIONS_TABLE,
  SESSIONS_VIEW,
  DEVICE_SESSIONS_TABLE,
  SESSION_DELTAS_TABLE,
  SESSION_LATEST_TABLE,
  SESSION_ROLLUP_TABLE,
  SESSION_ROLLUP_VIEW,
  VISITOR_IDS_TABLE,
  VISITOR_BITMAPS_TABLE,
  VISITOR_BITMAPS_VIEW,
  VISITOR_REMOVALS_TABLE,
  VISITOR_REMOVALS_VIEW,
  PAGE_ROLLUP_TABLE,
  PAGE_ROLLUP_VIEW,
  SESSION_MOVES_TABLE,
  PAGE_TITLES_TABLE,
  PAGE_TITLES_VIEW,
  ACTIVITY_TABLE,
  ACTIVITY_VIEW,
  STEP_EVENTS_TABLE,
  STEP_EVENTS_VIEW,
  STEP_FIRSTS_TABLE,
  STEP_FIRSTS_VIEW,
  METRIC_HOURS_TABLE,
  METRIC_HOUR_MARKS_TABLE,
  LATE_HOURS_TABLE,
  LATE_HOURS_VIEW,
  METRIC_SPANS_TABLE,
]);

/** The session and visitor rollups' bucket (toStartOfFifteenMinutes of the session start), in ms. */
export const BUCKET_MS = 15 * 60_000;
