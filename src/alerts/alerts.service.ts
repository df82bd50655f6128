import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ApiError, type FieldProblem } from '../common/api-error.js';
import { acceptsVersion, type IfMatch, versionTag } from '../common/entity-tag.js';
import { ianaZone, isApiInstant } from '../common/time.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { MetricsService } from '../metrics/index.js';
import type { AccountChannelsDocument, AlertDocument, AlertHistoryDocument, AlertStateDocument, AnomalySettings, ChannelRef, NotificationKind, Observation } from './alert.types.js';
import { AlertObserver } from './alert-observer.js';
import { initialState, step } from './alert-state-machine.js';
import { lastCompleteWindow, nextWindow, type Window, WINDOWS, windowStart } from './alert-window.js';
import type { AlertDto, AlertPreviewDto, AlertReplaceDto } from './alerts.dto.js';
import { AlertsRepository } from './alerts.repository.js';
import { DEFAULT_ANOMALY } from './anomaly.js';
import { ChannelResolver } from './channel-resolver.js';

const DEFAULTS = { severity: 'warning', cooldown: 900, window: '5m', for: 1, noData: 'ok', enabled: true, timezone: 'UTC' } as const;
/** The most windows a backtest judges (each is a value and, for an anomaly, its baseline). */
export const MAX_PREVIEW_WINDOWS = 2000;
const DAY = 86_400_000;

type DefinitionFields = Omit<AlertDocument, '_id' | 'accountId' | 'secret' | 'createdAt' | 'updatedAt' | 'version'>;

export interface AlertView {
  id: string;
  name: string;
  metric: { id: string; name: string | null; dimension?: string; value?: string };
  condition: AlertDocument['condition'];
  threshold?: number;
  anomaly?: AnomalySettings;
  severity: AlertDocument['severity'];
  channels: ChannelRef[];
  cooldown: number;
  window: string;
  for: number;
  noData: AlertDocument['noData'];
  enabled: boolean;
  timezone: string;
  createdAt: string;
  updatedAt: string;
  version: number;
  status: {
    state: AlertStateDocument['state'];
    since: string;
    lastValue: number | null;
    lastWindowEnd: string | null;
    lastEvaluatedAt: string | null;
    nextEvaluationAt: string | null;
    lastError?: string;
  } | null;
}

/** Alert definitions (checked against the account's metrics and channels), their history, and backtests. */
@Injectable()
export class AlertsService {
  constructor(
    private readonly repository: AlertsRepository,
    private readonly metrics: MetricsService,
    private readonly channels: ChannelResolver,
    private readonly observer: AlertObserver,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(accountId: string, dto: AlertDto, now = Date.now()): Promise<AlertView & { webhookSecret: string }> {
    const fields = await this.validate(accountId, dto, true);
    const at = new Date(now).toISOString();
    const doc: AlertDocument = { _id: randomUUID(), accountId, ...fields, secret: newSecret(), createdAt: at, updatedAt: at, version: 1 };
    await this.repository.insert(stripUndefined(doc));
    await this.repository.createState({ ...initialState(doc._id, accountId, now), ...(doc.enabled ? { nextDueAt: this.firstDue(doc, now) } : {}) });
    return { ...(await this.view(doc)), webhookSecret: doc.secret };
  }

  async list(accountId: string, offset: number, limit: number) {
    const [alerts, total] = await Promise.all([this.repository.list(accountId, offset, limit), this.repository.count(accountId)]);
    const states = new Map((await this.repository.statesOf(alerts.map((a) => a._id))).map((s) => [s._id, s]));
    return { alerts: await Promise.all(alerts.map((a) => this.view(a, states.get(a._id) ?? null))), total, limit, offset };
  }

  async get(accountId: string, id: string): Promise<AlertView> {
    return this.view(await this.load(accountId, id));
  }

  async replace(accountId: string, id: string, dto: AlertReplaceDto, ifMatch?: IfMatch, now = Date.now()): Promise<AlertView> {
    if (dto.id !== undefined && dto.id !== id) throw ApiError.validation([{ field: 'id', message: `must be the id in the path (${id}) or absent` }]);
    const current = await this.load(accountId, id);
    const tags = ifMatch && !ifMatch.any ? ifMatch : undefined;
    if (tags && !acceptsVersion(tags, current.version)) {
      throw new ApiError(412, 'precondition_failed', `If-Match does not match the alert's current ETag ${versionTag(current.version)}; read it again and reapply your change`);
    }
    if (dto.version !== undefined && dto.version !== current.version) {
      throw new ApiError(409, 'conflict', `version ${String(dto.version)} is stale: the alert is at version ${current.version}; read it again and reapply your change`);
    }
    const fields = await this.validate(accountId, dto, true);
    const updatedAt = new Date(now).toISOString();
    if (!(await this.repository.replace(accountId, id, current.version, { ...fields, updatedAt }))) {
      throw new ApiError(409, 'conflict', 'the alert was changed by someone else meanwhile; read it again and retry');
    }
    const updated: AlertDocument = { ...current, ...fields, updatedAt, version: current.version + 1 };
    // A paused alert is not looked at; one enabled again, or with a new window, starts with the window that closes next.
    const rescheduled = !updated.enabled ? undefined : !current.enabled || current.windowMs !== updated.windowMs || current.timezone !== updated.timezone ? this.firstDue(updated, now) : null;
    if (rescheduled !== null) await this.repository.schedule(id, rescheduled);
    return this.view(updated);
  }

  async remove(accountId: string, id: string): Promise<void> {
    if (!(await this.repository.remove(accountId, id))) throw ApiError.notFound('alert');
  }

  /** A new webhook signing secret (the old one stops working at once). */
  async rotateSecret(accountId: string, id: string): Promise<{ webhookSecret: string }> {
    const alert = await this.load(accountId, id);
    const secret = newSecret();
    if (!(await this.repository.replace(accountId, id, alert.version, { secret, updatedAt: new Date().toISOString(), dimension: alert.dimension, threshold: alert.threshold, anomaly: alert.anomaly }))) {
      throw new ApiError(409, 'conflict', 'the alert was changed meanwhile; try again');
    }
    return { webhookSecret: secret };
  }

  async history(accountId: string, id: string, offset: number, limit: number) {
    await this.load(accountId, id);
    const [entries, total] = await Promise.all([this.repository.historyOf(id, offset, limit), this.repository.historyCount(id)]);
    return { history: entries.map(historyView), total, limit, offset };
  }

  async accountChannels(accountId: string): Promise<Omit<AccountChannelsDocument, '_id'>> {
    const doc = await this.repository.channelsOf(accountId);
    return { email: doc?.email ?? [], ...(doc?.slack ? { slack: doc.slack } : {}), ...(doc?.webhook ? { webhook: doc.webhook } : {}), updatedAt: doc?.updatedAt ?? '' };
  }

  /** Replaces the account's named channels (a channel left out is removed). */
  async setAccountChannels(accountId: string, body: unknown): Promise<Omit<AccountChannelsDocument, '_id'>> {
    const problems = await this.channels.accountChannelProblems(body);
    if (problems.length > 0) throw ApiError.validation(problems);
    const b = body as { email?: string[]; slack?: string | null; webhook?: string | null };
    await this.repository.saveChannels({
      _id: accountId,
      email: [...new Set(b.email ?? [])],
      slack: b.slack ?? undefined,
      webhook: b.webhook ?? undefined,
      updatedAt: new Date().toISOString(),
    });
    return this.accountChannels(accountId);
  }

  /**
   * A backtest: the definition judged over every complete window of a past range, with the
   * same code as the evaluator (values, conditions, the `for` and cooldown rules), so what it
   * flags is what the saved alert would have flagged and notified.
   */
  async preview(accountId: string, dto: AlertPreviewDto, now = Date.now()) {
    const fields = await this.validate(accountId, dto, false);
    const last = lastCompleteWindow(now, fields.windowMs, fields.timezone, this.config.alerts.evalDelayMs);
    const to = dto.to === undefined ? last.to : Math.min(instant(dto.to, 'to'), last.to);
    const from = dto.from === undefined ? to - 7 * DAY : instant(dto.from, 'from');
    if (from >= to) throw ApiError.validation([{ field: 'from', message: 'must be before to (and before the end of the last complete window)' }]);
    const windows: Window[] = [];
    let w = nextWindow({ from: 0, to: windowStart(from, fields.windowMs, fields.timezone) }, fields.windowMs, fields.timezone);
    if (w.from < from) w = nextWindow(w, fields.windowMs, fields.timezone);
    for (; w.to <= to; w = nextWindow(w, fields.windowMs, fields.timezone)) {
      windows.push(w);
      if (windows.length > MAX_PREVIEW_WINDOWS) {
        throw ApiError.validation([{ field: 'from', message: `the range holds more than ${MAX_PREVIEW_WINDOWS} windows of ${fields.window}; shorten it or use a longer window` }]);
      }
    }
    if (windows.length === 0) throw ApiError.validation([{ field: 'from', message: `the range holds no complete window of ${fields.window}` }]);
    const observations = await this.observer.observe({ ...fields, accountId }, windows);
    let state = initialState('preview', accountId, from);
    const judged: (Observation & { state: string; notification?: NotificationKind })[] = [];
    for (const obs of observations) {
      const j = step(state, obs, fields, obs.windowEnd + this.config.alerts.evalDelayMs);
      state = j.next;
      judged.push({ ...obs, state: state.state, ...(j.notify ? { notification: j.notify } : {}) });
    }
    const count = (o: Observation['outcome']) => judged.filter((j) => j.outcome === o).length;
    const out = judged.map((j) => ({
      from: iso(j.windowStart),
      to: iso(j.windowEnd),
      value: j.value,
      outcome: j.outcome,
      state: j.state,
      ...(j.bound ? { bound: j.bound } : {}),
      explanation: j.explanation,
      ...(j.notification ? { notification: j.notification } : {}),
    }));
    return {
      from: iso(windows[0]?.from ?? from),
      to: iso(windows[windows.length - 1]?.to ?? to),
      window: fields.window,
      timezone: fields.timezone,
      summary: {
        windows: judged.length,
        breaches: count('breach'),
        noData: count('no_data'),
        errors: count('error'),
        learning: count('learning'),
        notifications: judged.filter((j) => j.notification).length,
      },
      flagged: out.filter((w) => w.outcome === 'breach'),
      windows: out,
    };
  }

  /** When the tick first looks at a new (or re-enabled) alert: once the window now filling has closed. */
  private firstDue(alert: Pick<AlertDocument, 'windowMs' | 'timezone'>, now: number): number {
    return nextWindow({ from: 0, to: windowStart(now, alert.windowMs, alert.timezone) }, alert.windowMs, alert.timezone).to + this.config.alerts.evalDelayMs;
  }

  /** Checks a definition against the account: its metric (id or name, dimension), condition settings and channels. */
  private async validate(accountId: string, dto: AlertDto, channelsRequired: boolean): Promise<DefinitionFields> {
    const problems: FieldProblem[] = [];
    const { ref, dimension, problems: metricProblems } = parseMetricRef(dto.metric);
    problems.push(...metricProblems);
    let metricId = '';
    if (ref) {
      const metric = await this.metrics.resolve(accountId, ref);
      if (!metric) problems.push({ field: 'metric', message: `the account has no metric with the id or name "${ref}"` });
      else {
        metricId = metric.id;
        if (dimension && !metric.dimensions.includes(dimension.name)) {
          problems.push({ field: 'metric.dimension', message: `"${dimension.name}" is not one of the metric's dimensions (${metric.dimensions.join(', ') || 'none'})` });
        }
      }
    }
    const condition = dto.condition;
    const isChange = condition === 'change_pct_up' || condition === 'change_pct_down';
    if (condition === 'anomaly') {
      if (dto.threshold !== undefined) problems.push({ field: 'threshold', message: 'an anomaly alert has no threshold: its band comes from past weeks (tune it with anomaly.sensitivity)' });
    } else if (dto.threshold === undefined) {
      problems.push({ field: 'threshold', message: isChange ? 'is required: the change in percent that breaches (e.g. 20)' : `is required for condition ${condition}` });
    } else if (isChange && !(dto.threshold > 0)) {
      problems.push({ field: 'threshold', message: 'must be a positive percentage for a change condition' });
    }
    let anomaly: AnomalySettings | undefined;
    if (dto.anomaly !== undefined) {
      if (condition !== 'anomaly') problems.push({ field: 'anomaly', message: 'only the anomaly condition has anomaly settings' });
      else {
        const parsed = parseAnomaly(dto.anomaly);
        problems.push(...parsed.problems);
        anomaly = parsed.settings;
      }
    } else if (condition === 'anomaly') anomaly = { ...DEFAULT_ANOMALY };
    const timezone = ianaZone(dto.timezone ?? DEFAULTS.timezone);
    if (timezone === null) problems.push({ field: 'timezone', message: `"${dto.timezone}" is not an IANA time zone` });
    if (channelsRequired || dto.channels !== undefined) problems.push(...(await this.channels.problems(accountId, dto.channels)));
    if (problems.length > 0) throw ApiError.validation(problems);
    const window = dto.window ?? DEFAULTS.window;
    return {
      name: (dto.name ?? 'preview').trim(),
      metricId,
      dimension,
      condition,
      threshold: condition === 'anomaly' ? undefined : dto.threshold,
      anomaly,
      severity: dto.severity ?? DEFAULTS.severity,
      channels: (dto.channels ?? []) as ChannelRef[],
      cooldown: dto.cooldown ?? DEFAULTS.cooldown,
      window,
      windowMs: WINDOWS[window]!,
      for: dto.for ?? DEFAULTS.for,
      noData: dto.noData ?? DEFAULTS.noData,
      enabled: dto.enabled ?? DEFAULTS.enabled,
      timezone: timezone!,
    };
  }

  private async view(alert: AlertDocument, known?: AlertStateDocument | null): Promise<AlertView> {
    const state = known === undefined ? await this.repository.state(alert._id) : known;
    const metric = await this.metrics.resolve(alert.accountId, alert.metricId);
    return {
      id: alert._id,
      name: alert.name,
      metric: { id: alert.metricId, name: metric?.name ?? null, ...(alert.dimension ? { dimension: alert.dimension.name, value: alert.dimension.value } : {}) },
      condition: alert.condition,
      ...(alert.threshold !== undefined ? { threshold: alert.threshold } : {}),
      ...(alert.anomaly ? { anomaly: alert.anomaly } : {}),
      severity: alert.severity,
      channels: alert.channels,
      cooldown: alert.cooldown,
      window: alert.window,
      for: alert.for,
      noData: alert.noData,
      enabled: alert.enabled,
      timezone: alert.timezone,
      createdAt: alert.createdAt,
      updatedAt: alert.updatedAt,
      version: alert.version,
      status: state
        ? {
            state: state.state,
            since: iso(state.since),
            lastValue: state.lastValue ?? null,
            lastWindowEnd: state.lastWindowEnd === undefined ? null : iso(state.lastWindowEnd),
            lastEvaluatedAt: state.lastEvaluatedAt === undefined ? null : iso(state.lastEvaluatedAt),
            nextEvaluationAt: state.nextDueAt === undefined || !alert.enabled ? null : iso(state.nextDueAt),
            ...(state.lastError ? { lastError: state.lastError } : {}),
          }
        : null,
    };
  }

  private async load(accountId: string, id: string): Promise<AlertDocument> {
    const alert = await this.repository.find(accountId, id);
    if (!alert) throw ApiError.notFound('alert');
    return alert;
  }
}

/** `metric` as sent: an id or name, or `{id, dimension, value}` (id may be a name too). */
function parseMetricRef(metric: unknown): { ref?: string; dimension?: { name: string; value: string }; problems: FieldProblem[] } {
  const ok = (s: unknown): s is string => typeof s === 'string' && s.length > 0 && s.length <= 200;
  if (ok(metric)) return { ref: metric, problems: [] };
  if (typeof metric !== 'object' || metric === null || Array.isArray(metric)) {
    return { problems: [{ field: 'metric', message: 'must be a metric id or name, or an object {id, dimension, value}' }] };
  }
  const m = metric as Record<string, unknown>;
  const problems: FieldProblem[] = Object.keys(m)
    .filter((k) => !['id', 'name', 'dimension', 'value'].includes(k))
    .map((k) => ({ field: `metric.${k}`, message: 'is not a known field (id, dimension, value)' }));
  const ref = m.id ?? m.name;
  if (!ok(ref)) problems.push({ field: 'metric.id', message: 'must be a metric id or name' });
  if ((m.dimension === undefined) !== (m.value === undefined)) {
    problems.push({ field: m.dimension === undefined ? 'metric.dimension' : 'metric.value', message: 'dimension and value go together: the events with this value of that dimension' });
  }
  if (m.dimension !== undefined && !ok(m.dimension)) problems.push({ field: 'metric.dimension', message: 'must be one of the metric\'s dimensions' });
  if (m.value !== undefined && (typeof m.value !== 'string' || m.value.length > 1000)) problems.push({ field: 'metric.value', message: 'must be a string of at most 1000 characters' });
  const dimension = ok(m.dimension) && typeof m.value === 'string' ? { name: m.dimension, value: m.value } : undefined;
  return { ref: ok(ref) ? ref : undefined, dimension, problems };
}

function parseAnomaly(raw: Record<string, unknown>): { settings: AnomalySettings; problems: FieldProblem[] } {
  const problems: FieldProblem[] = Object.keys(raw)
    .filter((k) => !['sensitivity', 'weeks', 'minVolume', 'direction'].includes(k))
    .map((k) => ({ field: `anomaly.${k}`, message: 'is not a known setting (sensitivity, weeks, minVolume, direction)' }));
  const settings = { ...DEFAULT_ANOMALY };
  const num = (key: 'sensitivity' | 'weeks' | 'minVolume', min: number, max: number, whole: boolean) => {
    const v = raw[key];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (whole && !Number.isInteger(v))) {
      problems.push({ field: `anomaly.${key}`, message: `must be a ${whole ? 'whole ' : ''}number from ${min} to ${max}` });
    } else settings[key] = v;
  };
  num('sensitivity', 0.5, 20, false);
  num('weeks', 1, 12, true);
  num('minVolume', 0, Number.MAX_SAFE_INTEGER, false);
  if (raw.direction !== undefined) {
    if (raw.direction === 'both' || raw.direction === 'up' || raw.direction === 'down') settings.direction = raw.direction;
    else problems.push({ field: 'anomaly.direction', message: 'must be both, up or down' });
  }
  return { settings, problems };
}

function historyView(h: AlertHistoryDocument) {
  const { _id, accountId: _a, alertId: _b, at, windowStart, windowEnd, ...rest } = h;
  return {
    id: _id,
    at: iso(at),
    ...rest,
    ...(windowStart !== undefined ? { windowStart: iso(windowStart) } : {}),
    ...(windowEnd !== undefined ? { windowEnd: iso(windowEnd) } : {}),
  };
}

function instant(value: string, field: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!isApiInstant(ms)) throw ApiError.validation([{ field, message: 'must be an ISO 8601 date or epoch milliseconds, from 1970 to 9999' }]);
  return ms;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const newSecret = (): string => randomBytes(32).toString('base64url');

function stripUndefined<T extends object>(doc: T): T {
  return Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined)) as T;
}
