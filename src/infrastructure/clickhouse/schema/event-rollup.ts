import { USER_KEY } from '../query/query-kit.js';
import { EVENTS_TABLE } from './tables.js';

const ROLLUP_COLUMNS = `account_id, toStartOfMinute(timestamp) AS minute, event_name, event_type, count() AS events,
  uniqExactStateIf(${USER_KEY}, ${USER_KEY} != '') AS users, uniqExactStateIf(session_id, session_id != '') AS sessions,
  uniqCombined64StateIf(${USER_KEY}, ${USER_KEY} != '') AS users_approx, uniqCombined64StateIf(session_id, session_id != '') AS sessions_approx`;
const ROLLUP_KEYS = 'account_id, minute, event_name, event_type';

/**
 * The rows of events_by_minute for the events rows `where` keeps, bots left out, as its view
 * (migration 3) computes them: the metric queries compute the partial minutes at a range's ends
 * with it, so their states are the same functions of the same rows as the stored ones. It must
 * stay the view's text; test/schema-migrations.test.ts compares them, so a change here needs a
 * migration that points the view at the new text.
 */
export function rollupSelect(where?: string): string {
  return `SELECT ${ROLLUP_COLUMNS} FROM ${EVENTS_TABLE} WHERE is_bot = 0${where ? ` AND (${where})` : ''} GROUP BY ${ROLLUP_KEYS}`;
}
