import type { AlertDocument, AlertStateDocument, AlertStateName, NotificationKind, Observation } from './alert.types.js';

export interface Judgement {
  /** The state after the window (a new object; the input is not changed). */
  next: AlertStateDocument;
  /** The state before, when it changed. */
  changedFrom?: AlertStateName;
  /** The notification this window decides, if any. */
  notify?: NotificationKind;
}

export function initialState(alertId: string, accountId: string, now: number): AlertStateDocument {
  return { _id: alertId, accountId, state: 'ok', since: now, breaches: 0, notified: 'ok', version: 0 };
}

/**
 * One window's step of `ok → pending → firing → ok` (plus `no_data` and `error`):
 *
 * - a breach counts; after `for` consecutive ones the alert fires (before that it is pending);
 *   no data counts as a breach when `noData` is `alert`, else it is the `no_data` state;
 * - a failed query is `error`: not ok, not a breach, and the count of breaches starts again;
 * - notifications of one alert are at least `cooldown` apart. Entering `firing` notifies at once
 *   (unless a notification went out within the cooldown: then it fired again while flapping and
 *   the last message still holds); while firing, it repeats once per cooldown; a recovery is
 *   announced once the cooldown since the last message has passed, unless it fired again
 *   meanwhile. So flapping across the threshold sends at most one message per cooldown, and the
 *   last message sent always ends up matching the state.
 *
 * `at` is the time of the judgement (the window's end in a backtest).
 */
export function step(prev: AlertStateDocument, obs: Observation, alert: Pick<AlertDocument, 'for' | 'noData' | 'cooldown'>, at: number): Judgement {
  const next: AlertStateDocument = { ...prev, lastWindowEnd: obs.windowEnd, lastValue: obs.value, lastEvaluatedAt: at };
  delete next.lastError;
  const breach = obs.outcome === 'breach' || (obs.outcome === 'no_data' && alert.noData === 'alert');
  let state: AlertStateName;
  if (obs.outcome === 'error') {
    state = 'error';
    next.breaches = 0;
    next.lastError = obs.explanation;
  } else if (breach) {
    next.breaches = prev.breaches + 1;
    state = next.breaches >= alert.for ? 'firing' : 'pending';
  } else {
    next.breaches = 0;
    state = obs.outcome === 'no_data' ? 'no_data' : 'ok';
  }
  const judgement: Judgement = { next };
  if (state !== prev.state) {
    judgement.changedFrom = prev.state;
    next.state = state;
    next.since = at;
  }
  const cooledDown = prev.lastNotifiedAt === undefined || at - prev.lastNotifiedAt >= alert.cooldown * 1000;
  let notify: NotificationKind | undefined;
  if (state === 'firing') {
    if (prev.notified !== 'firing' && cooledDown) notify = 'firing';
    else if (prev.notified === 'firing' && cooledDown) notify = 'repeat';
  } else if ((state === 'ok' || state === 'no_data') && prev.notified === 'firing' && cooledDown) {
    notify = 'resolved';
  }
  if (notify) {
    judgement.notify = notify;
    next.notified = notify === 'resolved' ? 'ok' : 'firing';
    next.lastNotifiedAt = at;
  }
  return judgement;
}
