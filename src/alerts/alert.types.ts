/** Alert definitions, their state, history and deliveries, as the documents store keeps them. */

export const CONDITIONS = ['greater_than', 'less_than', 'equals', 'not_equals', 'change_pct_up', 'change_pct_down', 'anomaly'] as const;
export type Condition = (typeof CONDITIONS)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const STATES = ['ok', 'pending', 'firing', 'no_data', 'error'] as const;
export type AlertStateName = (typeof STATES)[number];

export const CHANNEL_TYPES = ['email', 'slack', 'webhook'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** Where a notification goes, resolved when the alert is saved (account channels included). */
export type Channel =
  | { type: 'email'; to: string[] }
  | { type: 'slack'; url: string }
  | { type: 'webhook'; url: string };

/** As the definition names it: a configured channel by name, or one given in full. */
export type ChannelRef = ChannelType | Channel;

export interface AnomalySettings {
  /** How many robust standard deviations (1.4826 × MAD) away from the median is unusual. */
  sensitivity: number;
  /** Past weeks whose same window is the baseline (hour-of-week). */
  weeks: number;
  /** Below this, on both the observed and the expected side, nothing is flagged (a quiet night). */
  minVolume: number;
  direction: 'both' | 'up' | 'down';
}

export interface AlertDocument {
  _id: string;
  accountId: string;
  name: string;
  /** The custom metric's id (a name given in the definition is resolved to it when saved). */
  metricId: string;
  /** Only the events with this value of one of the metric's dimensions. */
  dimension?: { name: string; value: string };
  condition: Condition;
  /** The bound of a threshold condition, or the percentage of a change condition. */
  threshold?: number;
  anomaly?: AnomalySettings;
  severity: Severity;
  /** As sent (names or full channels), so the account's channels can change under a name. */
  channels: ChannelRef[];
  /** Seconds: notifications of one alert are at least this far apart. */
  cooldown: number;
  /** The judged period, as written (`5m`, `1h`, `1d`) and in ms. */
  window: string;
  windowMs: number;
  /** Consecutive breaching windows before it fires. */
  for: number;
  noData: 'ok' | 'alert';
  enabled: boolean;
  /** Zone of window boundaries (a `1d` window is a local day) and of hour-of-week. */
  timezone: string;
  /** Signs webhook bodies (HMAC-SHA256). */
  secret: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** One alert's evaluation state (its own document, so definition edits and evaluations never race). */
export interface AlertStateDocument {
  _id: string; // the alert's id
  accountId: string;
  state: AlertStateName;
  /** When the current state began. */
  since: number;
  /** Consecutive breaching windows up to the last judged one. */
  breaches: number;
  /** End of the last judged window. */
  lastWindowEnd?: number;
  /** When the tick should next enqueue an evaluation (the next window's end plus the delay). */
  nextDueAt?: number;
  lastValue?: number | null;
  lastEvaluatedAt?: number;
  /** What the last notification said ('ok' before any, or after a recovery was announced). */
  notified: 'firing' | 'ok';
  lastNotifiedAt?: number;
  lastError?: string;
  version: number;
}

/** What one window's judgement found. */
export interface Observation {
  windowStart: number;
  windowEnd: number;
  /** breach / clear: a value was judged; no_data: nothing was measured; error: the query failed; learning: too little history. */
  outcome: 'breach' | 'clear' | 'no_data' | 'error' | 'learning';
  value: number | null;
  /** Words a person reads: the comparison made, with the numbers. */
  explanation: string;
  /** The threshold or band the value was compared with. */
  bound?: { threshold?: number; previous?: number | null; expected?: number; lower?: number; upper?: number };
}

export type NotificationKind = 'firing' | 'resolved' | 'repeat';

/**
 * A history entry: a state change, a notification decided without one (a repeat while firing, a
 * recovery announced once the cooldown passed), or a delivery attempt.
 */
export interface AlertHistoryDocument {
  _id: string;
  accountId: string;
  alertId: string;
  at: number;
  type: 'state_change' | 'notification' | 'delivery';
  // state_change
  from?: AlertStateName;
  to?: AlertStateName;
  value?: number | null;
  windowStart?: number;
  windowEnd?: number;
  explanation?: string;
  notification?: NotificationKind;
  // delivery
  deliveryId?: string;
  channel?: ChannelType;
  target?: string;
  outcome?: 'sent' | 'failed' | 'interrupted';
  detail?: string;
}

/** The outbox: one per (notification, channel target); its id is the idempotency key. */
export interface AlertDeliveryDocument {
  _id: string;
  accountId: string;
  alertId: string;
  notificationId: string;
  kind: NotificationKind;
  channel: Channel;
  /** The message, built when the notification was decided (retries send the same). */
  payload: NotificationPayload;
  /** failed: will be tried again; abandoned: refused for good, or out of tries. */
  status: 'pending' | 'sending' | 'sent' | 'failed' | 'abandoned';
  attempts: number;
  sendingSince?: number;
  sentAt?: number;
  createdAt: number;
}

/** What every channel says about a state change, as the webhook's JSON body carries it. */
export interface NotificationPayload {
  id: string;
  kind: NotificationKind;
  alert: { id: string; name: string; severity: Severity; url: string };
  account: string;
  state: AlertStateName;
  metric: { id: string; name: string; unit?: string; dimension?: { name: string; value: string } };
  condition: Condition;
  value: number | null;
  bound?: Observation['bound'];
  explanation: string;
  /** ISO instants; `timezone` is the alert's, in which messages show them. */
  window: { from: string; to: string; length: string; timezone: string };
  firingSince?: string;
  at: string;
}

/** The account's named channels: what `"email"`, `"slack"` and `"webhook"` in a definition mean. */
export interface AccountChannelsDocument {
  _id: string; // the account id
  email: string[];
  slack?: string;
  webhook?: string;
  updatedAt: string;
}
