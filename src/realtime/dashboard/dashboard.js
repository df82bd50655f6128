/**
 * The live dashboard: a plain ES module, no build step. It uses only the public APIs:
 *
 * - `POST /api/live/tokens` with the client secret → a short-lived live token (at sign-in, which
 *   doubles as the credential check, and again whenever the socket needs a fresh one);
 * - `/ws/analytics?token=…` (the live protocol, src/realtime/live-protocol.ts): the event feed,
 *   counters every second, and the chosen custom metrics;
 * - REST with `Authorization: Bearer <secret>`: metrics and their data, insights, alerts.
 *
 * Charts are the reports' own: a ChartSpec turned into an ECharts option by chart-option.js.
 * Event data is always put on the page as text (textContent), never as HTML.
 */
import * as echarts from '/dashboard/vendor/echarts.js';
import { axisUnit, chartOption } from '/dashboard/lib/reports/charts/chart-option.js';
import { formatCount, formatMeasure } from '/dashboard/lib/reports/render/format.js';

const STORAGE = { secret: 'dashboard.secret', metrics: 'dashboard.metrics', eps: 'dashboard.eps' };
const EPS_SECONDS = 300;
const FEED_ROWS = 100;
const METRIC_POINTS = 30;
const DEFAULT_METRICS = 3;
/** Counters come every second: a ready socket silent this long is taken for dead (a half-open TCP). */
const STALL_MS = 10_000;
const SUMMARY_MS = 15_000;
const INSIGHTS_MS = 60_000;
const ALERTS_MS = 30_000;
const METRICS_LIST_MS = 300_000;
/** A token this close to its expiry is renewed before (re)connecting. */
const TOKEN_MARGIN_MS = 15_000;
const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const minuteFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const hms = (ms) => timeFormat.format(ms);
const hm = (ms) => minuteFormat.format(ms);

/** Everything the signed-in page holds; reset by signOut(). */
const state = {
  secret: '',
  accountId: '',
  token: '',
  tokenExpiresAt: 0,
  tokenFetchedAt: 0,
  /** @type {WebSocket | null} */
  ws: null,
  ready: false,
  lastMessageAt: 0,
  attempt: 0,
  retryAt: 0,
  timers: /** @type {number[]} */ ([]),
  retryTimer: 0,
  feedSeq: 0,
  feedSub: '',
  /** @type {object} */
  feedFilter: {},
  paused: false,
  /** @type {object[]} events that arrived while paused, newest first */
  held: [],
  /** seconds (epoch ms of the second's start) → events per second */
  eps: /** @type {Map<number, number>} */ (new Map()),
  /** seconds → [name, count][] of that second */
  byName: /** @type {Map<number, [string, number][]>} */ (new Map()),
  latestSecond: 0,
  metrics: /** @type {object[]} */ ([]),
  selected: /** @type {string[]} */ ([]),
  /** metric id → its card and chart */
  metricViews: /** @type {Map<string, {card: HTMLElement, chart: any, value: HTMLElement, error: HTMLElement, metric: object, points: {t: string, value: number | null}[], current: number | null}>} */ (new Map()),
  charts: /** @type {Map<string, any>} */ (new Map()),
};

// ---- Sign-in -------------------------------------------------------------------------------

class ApiFailure extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path, { method = 'GET', secret = state.secret, body } = {}) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${secret}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (err) {
    throw new ApiFailure(0, 'network', `could not reach the service (${err instanceof Error ? err.message : err})`);
  }
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const error = parsed && parsed.error ? parsed.error : {};
    throw new ApiFailure(res.status, error.code || '', error.message || `${res.status} ${res.statusText}`);
  }
  return parsed;
}

/** What a failed sign-in says: which secret to use, never just "error". */
function signInMessage(err) {
  if (!(err instanceof ApiFailure)) return `Sign-in failed: ${err}`;
  switch (err.status) {
    case 0:
      return 'Could not reach the service. Check your connection and try again.';
    case 401:
      return 'That secret was not accepted: it is not a client secret of any account, or it was revoked. Paste a read or admin client secret.';
    case 403:
      return `This secret may not read the account (${err.message}). Use a read or admin client secret.`;
    case 404:
      return 'This service does not offer live tokens (POST /api/live/tokens): it may be an older version.';
    case 429:
      return 'Too many attempts. Wait a moment, then try again.';
    default:
      return `Sign-in failed (${err.status}): ${err.message}`;
  }
}

async function fetchToken(secret = state.secret) {
  const body = await api('/api/live/tokens', { method: 'POST', secret });
  if (!body || typeof body.token !== 'string') throw new ApiFailure(500, 'bad_answer', 'the token answer has no token');
  return body;
}

async function signIn(secret, restored) {
  const button = /** @type {HTMLButtonElement} */ ($('sign-in-button'));
  const error = $('sign-in-error');
  button.disabled = true;
  button.textContent = 'Signing in…';
  error.textContent = '';
  try {
    const token = await fetchToken(secret);
    state.secret = secret;
    state.accountId = token.accountId;
    keepToken(token);
    sessionStorage.setItem(STORAGE.secret, secret);
  } catch (err) {
    if (restored) sessionStorage.removeItem(STORAGE.secret);
    error.textContent = restored ? `You were signed out. ${signInMessage(err)}` : signInMessage(err);
    const input = /** @type {HTMLInputElement} */ ($('secret'));
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    input.select();
    return;
  } finally {
    button.disabled = false;
    button.textContent = 'Sign in';
  }
  showDashboard();
}

function keepToken(token) {
  state.token = token.token;
  state.tokenExpiresAt = Date.parse(token.expiresAt) || Date.now() + 60_000;
  state.tokenFetchedAt = Date.now();
}

function showDashboard() {
  $('sign-in').hidden = true;
  $('dashboard').hidden = false;
  $('session').hidden = false;
  $('account-id').textContent = state.accountId;
  $('account-id').title = state.accountId;
  /** @type {HTMLInputElement} */ ($('secret')).value = '';
  $('secret').removeAttribute('aria-invalid');
  restoreEps();
  state.selected = readSelection() ?? [];
  renderEps();
  renderFeedStatus();
  connect();
  loadMetrics();
  loadInsights();
  loadAlerts();
  state.timers.push(
    window.setInterval(loadInsights, INSIGHTS_MS),
    window.setInterval(loadAlerts, ALERTS_MS),
    window.setInterval(loadMetrics, METRICS_LIST_MS),
    window.setInterval(announce, SUMMARY_MS),
    window.setInterval(saveEps, 5_000),
    window.setInterval(tickConnection, 1_000),
  );
  // Focus moves to the dashboard (for keyboard and screen reader users); the view stays at the top.
  $('main').focus({ preventScroll: true });
}

/** Back to the sign-in form; `message` says why when it was not the user's choice. */
function signOut(message = '') {
  for (const timer of state.timers) window.clearInterval(timer);
  window.clearTimeout(state.retryTimer);
  const ws = state.ws;
  Object.assign(state, {
    secret: '', accountId: '', token: '', tokenExpiresAt: 0, tokenFetchedAt: 0, ws: null, ready: false, attempt: 0,
    retryAt: 0, timers: [], retryTimer: 0, feedSub: '', feedFilter: {}, paused: false, held: [], latestSecond: 0,
    metrics: [], selected: [],
  });
  if (ws) ws.close(1000, 'signed out');
  state.eps.clear();
  state.byName.clear();
  for (const chart of state.charts.values()) chart.dispose();
  state.charts.clear();
  for (const view of state.metricViews.values()) view.chart.dispose();
  state.metricViews.clear();
  for (const key of Object.values(STORAGE)) sessionStorage.removeItem(key);
  for (const id of ['feed-list', 'metric-options', 'metric-charts', 'alert-list', 'top-names']) $(id).replaceChildren();
  // Nothing of this account stays on the page for the next one.
  for (const id of ['c-eps', 'c-minute', 'c-users', 'c-sessions', 'c-visitors', 'i-visitors', 'i-sessions', 'i-views']) $(id).textContent = '–';
  for (const id of ['counters-at', 'counters-note', 'live-summary', 'feed-status', 'feed-filter-error', 'insights-updated', 'insights-error', 'metrics-empty', 'metric-count', 'alerts-updated', 'alerts-error', 'account-id']) {
    $(id).textContent = '';
  }
  feedSampling = { rate: 1, matched: 0 };
  /** @type {HTMLInputElement} */ ($('feed-filter')).value = '';
  setPaused(false);
  setConnection('idle', 'Not connected');
  $('dashboard').hidden = true;
  $('session').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message;
  $('secret').focus();
}

/** A REST answer of 401: the secret was revoked while the page was open. */
function onApiError(err, target) {
  if (err instanceof ApiFailure && err.status === 401) {
    signOut('Your client secret is no longer accepted (revoked?). Sign in again.');
    return;
  }
  if (target) target.textContent = err instanceof ApiFailure ? `Could not load: ${err.message}` : `Could not load: ${err}`;
}

// ---- The live connection -------------------------------------------------------------------

/** The state in a status region (announced when it changes); a retry's countdown beside it, not announced. */
function setConnection(kind, text) {
  $('connection').dataset.state = kind;
  if ($('connection-text').textContent !== text) $('connection-text').textContent = text;
  if (kind !== 'retry') $('retry-in').textContent = '';
}

function tickConnection() {
  if (state.ws && state.ready && Date.now() - state.lastMessageAt > STALL_MS) {
    // No close event comes from a connection that silently died: let it go and start again.
    const ws = state.ws;
    state.ws = null;
    state.ready = false;
    ws.close(4000, 'no message for a while');
    scheduleReconnect();
  }
  if (state.retryAt) {
    const seconds = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
    setConnection('retry', 'Reconnecting');
    $('retry-in').textContent = `in ${seconds} s`;
  }
  if (!state.ready && state.secret) renderEps();
}

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN && state.ready) state.ws.send(JSON.stringify(message));
}

/** The secret connect() is getting a token for: a second call meanwhile (`online`) must not open a second socket. */
let fetchingTokenFor = '';

async function connect() {
  if (!state.secret || fetchingTokenFor === state.secret) return;
  window.clearTimeout(state.retryTimer);
  state.retryAt = 0;
  setConnection('connecting', 'Connecting…');
  if (!state.token || state.tokenExpiresAt - Date.now() < TOKEN_MARGIN_MS) {
    const secret = state.secret;
    fetchingTokenFor = secret;
    try {
      keepToken(await fetchToken(secret));
    } catch (err) {
      if (state.secret !== secret) return; // signed out meanwhile
      if (err instanceof ApiFailure && (err.status === 401 || err.status === 403)) {
        signOut(`Your client secret is no longer accepted: ${err.message}. Sign in again.`);
        return;
      }
      scheduleReconnect();
      return;
    } finally {
      if (fetchingTokenFor === secret) fetchingTokenFor = '';
    }
    if (state.secret !== secret) return;
  }
  if (state.ws) return; // a socket opened meanwhile
  const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${protocol}//${location.host}/ws/analytics?token=${encodeURIComponent(state.token)}`);
  const openedWith = state.tokenFetchedAt;
  state.ws = ws;
  state.ready = false;
  ws.addEventListener('message', (ev) => {
    if (state.ws !== ws) return;
    state.lastMessageAt = Date.now();
    let message;
    try {
      message = JSON.parse(String(ev.data));
    } catch {
      return;
    }
    if (message && typeof message.type === 'string') onMessage(message);
  });
  ws.addEventListener('close', (ev) => {
    if (state.ws !== ws) return;
    state.ws = null;
    const wasReady = state.ready;
    state.ready = false;
    if (ev.code === 4403) {
      setConnection('refused', 'Refused: this credential may not read live data');
      return;
    }
    if (ev.code === 4401) {
      // The token expired or was refused: a new one, at once unless this one was brand new.
      state.token = '';
      if (wasReady || Date.now() - openedWith > TOKEN_MARGIN_MS) {
        connect();
        return;
      }
    }
    scheduleReconnect();
  });
}

/** Exponential backoff with jitter: about 1, 2, 4 … 30 s; reset once a socket is ready. */
function scheduleReconnect() {
  const base = Math.min(30_000, 1000 * 2 ** state.attempt);
  const delay = Math.round(base / 2 + (Math.random() * base) / 2);
  state.attempt += 1;
  state.retryAt = Date.now() + delay;
  tickConnection();
  state.retryTimer = window.setTimeout(connect, delay);
}

window.addEventListener('online', () => {
  if (state.secret && !state.ws) connect();
});

function onMessage(m) {
  switch (m.type) {
    case 'ready':
      state.ready = true;
      state.attempt = 0;
      setConnection('live', 'Live');
      subscribeFeed();
      send({ type: 'subscribe', id: 'counters', topic: 'counters', top: 20 });
      for (const id of state.selected) send({ type: 'subscribe', id: `m-${id}`, topic: 'metric', metricId: id, points: METRIC_POINTS });
      break;
    case 'events':
      if (m.subscription === state.feedSub) onEvents(m);
      break;
    case 'counters':
      onCounters(m);
      break;
    case 'metric':
      onMetric(m);
      break;
    case 'dropped':
      $('feed-status').textContent = `${formatCount(m.count)} live messages were skipped: this page could not keep up.`;
      break;
    case 'error':
      onServerError(m);
      break;
    case 'subscribed':
      if (m.subscription === state.feedSub) $('feed-list').dataset.ready = 'true';
      break;
    default:
      break; // unsubscribed, pong
  }
}

function onServerError(m) {
  const text = m.message || m.code || 'error';
  if (m.subscription && m.subscription === state.feedSub) {
    $('feed-filter-error').textContent = `The server refused this filter: ${text}`;
  } else if (m.subscription && m.subscription.startsWith('m-')) {
    const view = state.metricViews.get(m.subscription.slice(2));
    if (view) view.error.textContent = `Live updates refused: ${text}`;
  } else {
    $('counters-note').textContent = `The live stream reported: ${text}`;
  }
}

// ---- Feed ----------------------------------------------------------------------------------

/**
 * The filter box: words are event names, `type:x` an event type, `key=value` a property
 * (`true`/`false` and numbers as such; quote a value to keep it text: `code="42"`).
 */
export function parseFilter(text) {
  const filter = {};
  const tokens = text.match(/(?:[^\s"]+|"[^"]*")+/g) || [];
  for (const token of tokens) {
    const eq = token.indexOf('=');
    if (eq >= 0) {
      const key = token.slice(0, eq);
      const raw = token.slice(eq + 1);
      if (!key) throw new Error(`"${token}" needs a property name before "="`);
      filter.properties ??= {};
      filter.properties[key] = propertyValue(raw);
    } else if (/^type:/i.test(token)) {
      const type = unquote(token.slice(5));
      if (!type) throw new Error('"type:" needs an event type after it');
      if (filter.eventType && filter.eventType !== type) throw new Error('an event has one type: give one type: at most');
      filter.eventType = type;
    } else {
      const name = unquote(token);
      if (filter.eventName && filter.eventName !== name) throw new Error('an event has one name: give one event name at most');
      filter.eventName = name;
    }
  }
  return filter;
}

function unquote(text) {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}

function propertyValue(raw) {
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) return raw.slice(1, -1);
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw !== '' && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw;
}

function subscribeFeed() {
  if (state.feedSub) send({ type: 'unsubscribe', id: state.feedSub });
  state.feedSeq += 1;
  state.feedSub = `feed-${state.feedSeq}`;
  // For tests and tools: which subscription the feed shows, and whether the server answered it.
  const list = $('feed-list');
  list.dataset.subscription = state.feedSub;
  list.dataset.ready = 'false';
  const message = { type: 'subscribe', id: state.feedSub, topic: 'events', maxPerSecond: 50 };
  if (Object.keys(state.feedFilter).length > 0) message.filter = state.feedFilter;
  send(message);
}

let filterTimer = 0;
function onFilterInput() {
  window.clearTimeout(filterTimer);
  filterTimer = window.setTimeout(applyFilter, 300);
}

function applyFilter() {
  const input = /** @type {HTMLInputElement} */ ($('feed-filter'));
  let filter;
  try {
    filter = parseFilter(input.value.trim());
  } catch (err) {
    $('feed-filter-error').textContent = err instanceof Error ? err.message : String(err);
    input.setAttribute('aria-invalid', 'true');
    return;
  }
  $('feed-filter-error').textContent = '';
  input.removeAttribute('aria-invalid');
  if (JSON.stringify(filter) === JSON.stringify(state.feedFilter)) return;
  state.feedFilter = filter;
  state.held = [];
  $('feed-list').replaceChildren();
  // Only while a socket is ready: on ready, the subscription is made with the current filter.
  if (state.ready) subscribeFeed();
  renderFeedStatus();
}

let feedSampling = { rate: 1, matched: 0 };

function onEvents(m) {
  feedSampling = { rate: typeof m.sampleRate === 'number' ? m.sampleRate : 1, matched: m.matched || 0 };
  const events = Array.isArray(m.events) ? [...m.events] : [];
  // Newest first, whatever order a message carries them in.
  events.sort((a, b) => (Date.parse(b.timestamp) || 0) - (Date.parse(a.timestamp) || 0));
  if (m.snapshot) {
    $('feed-list').dataset.ready = 'true';
    state.held = [];
    $('feed-list').replaceChildren();
  }
  if (state.paused && !m.snapshot) {
    state.held = [...events, ...state.held].slice(0, FEED_ROWS);
  } else {
    prependEvents(events);
  }
  renderFeedStatus();
}

function prependEvents(events) {
  const list = $('feed-list');
  const fragment = document.createDocumentFragment();
  for (const event of events) {
    if (list.querySelector(`[data-event-id="${CSS.escape(String(event.eventId))}"]`)) continue;
    fragment.append(eventRow(event));
  }
  list.prepend(fragment);
  while (list.children.length > FEED_ROWS) list.lastElementChild?.remove();
}

function eventRow(event) {
  const li = el('li', 'event');
  li.dataset.eventId = String(event.eventId);
  const at = Date.parse(event.timestamp);
  const time = el('time', 'event-time', Number.isFinite(at) ? hms(at) : '');
  if (Number.isFinite(at)) time.dateTime = new Date(at).toISOString();
  const head = el('div', 'event-head');
  head.append(el('span', 'event-name', String(event.eventName)), el('span', 'event-type', String(event.eventType)), time);
  li.append(head);
  const who = event.userId ? `user ${event.userId}` : event.anonymousId ? `device ${event.anonymousId}` : '';
  const props = Object.entries(event.properties || {})
    .slice(0, 6)
    .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`);
  const detail = [who, ...props].filter(Boolean).join(' · ');
  if (detail) li.append(el('div', 'event-detail', detail));
  return li;
}

function setPaused(paused) {
  state.paused = paused;
  const button = $('feed-pause');
  button.setAttribute('aria-pressed', String(paused));
  button.textContent = paused ? 'Resume' : 'Pause';
  if (!paused && state.held.length > 0) {
    prependEvents(state.held);
    state.held = [];
  }
  renderFeedStatus();
}

function renderFeedStatus() {
  const parts = [];
  if (state.paused) parts.push(`Paused${state.held.length ? `: ${formatCount(state.held.length)} new events held` : ''}.`);
  if (feedSampling.rate < 1) {
    parts.push(`Busy: showing about 1 in ${Math.round(1 / feedSampling.rate)} of ${formatCount(feedSampling.matched)} matching events.`);
  }
  if (!state.paused && $('feed-list').children.length === 0) {
    parts.push(Object.keys(state.feedFilter).length ? 'No matching events yet.' : 'Waiting for events…');
  }
  $('feed-status').textContent = parts.join(' ');
}

// ---- Counters and the events-per-second chart ---------------------------------------------

function onCounters(m) {
  const at = Date.parse(m.at);
  if (!Number.isFinite(at)) return;
  const second = Math.floor(at / 1000) * 1000;
  state.eps.set(second, Number(m.eventsPerSecond) || 0);
  state.byName.set(second, (m.byName || []).map((n) => [String(n.name), Number(n.count) || 0]));
  state.latestSecond = Math.max(state.latestSecond, second);
  for (const key of state.eps.keys()) if (key <= state.latestSecond - EPS_SECONDS * 1000) state.eps.delete(key);
  for (const key of state.byName.keys()) if (key <= state.latestSecond - 60_000) state.byName.delete(key);

  $('c-eps').textContent = formatCount(Number(m.eventsPerSecond) || 0);
  $('c-minute').textContent = formatCount(lastMinuteTotal());
  $('c-users').textContent = formatCount(Number(m.activeUsers) || 0);
  $('c-sessions').textContent = formatCount(Number(m.activeSessions) || 0);
  $('c-visitors').textContent = formatCount(Number(m.liveVisitors) || 0);
  $('counters-at').textContent = `as of ${hms(second)}`;
  const since = earliestSecond();
  $('counters-note').textContent =
    since > state.latestSecond - 59_000 ? `The last-minute figures count since ${hms(since)}, when this page started listening.` : '';
  renderTopNames();
  renderEps();
}

function earliestSecond() {
  let min = state.latestSecond;
  for (const key of state.eps.keys()) min = Math.min(min, key);
  return min;
}

function lastMinuteTotal() {
  let total = 0;
  for (const [second, n] of state.eps) if (second > state.latestSecond - 60_000) total += n;
  return total;
}

function renderTopNames() {
  const totals = new Map();
  for (const names of state.byName.values()) for (const [name, n] of names) totals.set(name, (totals.get(name) || 0) + n);
  const top = [...totals].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5);
  const list = $('top-names');
  list.replaceChildren(
    ...top.map(([name, n]) => {
      const li = el('li');
      li.append(el('span', 'name', name), el('span', 'count', formatCount(n)));
      return li;
    }),
  );
  if (top.length === 0) list.append(el('li', 'muted', 'No events in the last minute.'));
}

function renderEps() {
  const chart = chartFor('eps-chart');
  if (!chart) return;
  // Live: the server's latest second. Otherwise the clock moves on, and the gap shows.
  const clock = Math.floor(Date.now() / 1000) * 1000 - 1000;
  const end = state.ready && state.latestSecond ? state.latestSecond : Math.max(state.latestSecond, clock);
  const categories = [];
  const values = [];
  for (let i = EPS_SECONDS - 1; i >= 0; i -= 1) {
    const second = end - i * 1000;
    categories.push(hms(second));
    values.push(state.eps.has(second) ? state.eps.get(second) : null);
  }
  draw(chart, { type: 'line', categories, series: [{ name: 'Events per second', values }], unit: 'count' }, { legend: false });
}

/** Restores the last minutes' counts of this tab (a reload keeps the chart), gaps as gaps. */
function restoreEps() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE.eps) || 'null');
    if (!saved || saved.accountId !== state.accountId) return;
    const oldest = Date.now() - EPS_SECONDS * 1000;
    for (const [second, n] of saved.eps) if (second > oldest) state.eps.set(second, n);
    state.latestSecond = Math.max(0, ...state.eps.keys());
  } catch {
    // a damaged entry: start empty
  }
}

function saveEps() {
  sessionStorage.setItem(STORAGE.eps, JSON.stringify({ accountId: state.accountId, eps: [...state.eps] }));
}

/** A polite summary for screen readers, every 15 s and only when it changed. */
function announce() {
  if (!state.ready) return;
  let recent = 0;
  for (const [second, n] of state.eps) if (second > state.latestSecond - SUMMARY_MS) recent += n;
  const users = $('c-users').textContent;
  const text = `${formatCount(recent)} events in the last 15 seconds; ${users} active users.`;
  if (text !== $('live-summary').textContent) $('live-summary').textContent = text;
}

// ---- Charts --------------------------------------------------------------------------------

const resizer = new ResizeObserver((entries) => {
  for (const entry of entries) echarts.getInstanceByDom(entry.target)?.resize();
});

function chartFor(id) {
  let chart = state.charts.get(id);
  if (!chart) {
    const node = $(id);
    if (!node || node.clientWidth === 0) return null;
    chart = echarts.init(node, null, { renderer: 'canvas' });
    resizer.observe(node);
    state.charts.set(id, chart);
  }
  return chart;
}

/**
 * Draws a chart spec with the reports' own option (chart-option.js), made for a live page: no
 * animation (it redraws every second); a tooltip drawn on the canvas (the HTML one would need
 * inline styles, which the page's Content-Security-Policy forbids) that names each series once
 * and reads values as the reports do; whole numbers on the axis of counts. Updates replace the
 * series and title but keep the chart, so an open tooltip stays open while the data moves.
 */
function draw(chart, spec, { legend = true } = {}) {
  const option = chartOption(spec);
  const unit = axisUnit(spec);
  const inProgress = spec.inProgressFrom;
  option.title = option.title ? [option.title] : [];
  option.animation = false;
  if (!legend) {
    option.legend = { show: false };
    option.grid = { ...option.grid, top: 16 };
  }
  if (spec.unit === 'count') option.yAxis = { ...option.yAxis, minInterval: 1 };
  option.tooltip = {
    ...option.tooltip,
    renderMode: 'richText',
    confine: true,
    formatter: (params) => {
      const items = Array.isArray(params) ? params : [params];
      const head = items[0] ? `${items[0].axisValueLabel ?? items[0].name}${inProgress !== undefined && items[0].dataIndex >= inProgress ? ' (in progress)' : ''}` : '';
      // A line with an in-progress part is two series of one name: one line each, its value if any.
      const byName = new Map();
      for (const item of items) {
        const value = typeof item.value === 'number' ? item.value : null;
        const known = byName.get(item.seriesName);
        if (!known || (known.value === null && value !== null)) byName.set(item.seriesName, { marker: item.marker, value });
      }
      const lines = [...byName].map(([name, { marker, value }]) => `${marker}${name}  ${formatMeasure(value === null ? null : value * unit.divisor, spec.unit)}`);
      return [head, ...lines].join('\n');
    },
  };
  // While the chart keeps its series, an update replaces their data and an open tooltip stays;
  // when their number changes (an in-progress part appears), the chart starts afresh (ECharts'
  // tooltip would otherwise look for the series it showed).
  const shape = `${option.series.length}`;
  const fresh = chart.dashboardShape !== shape;
  chart.dashboardShape = shape;
  chart.setOption(option, fresh ? { notMerge: true, lazyUpdate: true } : { replaceMerge: ['series', 'title'], lazyUpdate: true });
}

// ---- Custom metrics ------------------------------------------------------------------------

function readSelection() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE.metrics) || 'null');
    return Array.isArray(saved) ? saved.filter((id) => typeof id === 'string') : null;
  } catch {
    return null;
  }
}

async function loadMetrics() {
  const secret = state.secret;
  let answer;
  try {
    answer = await api('/api/metrics?limit=200');
  } catch (err) {
    if (state.secret === secret) onApiError(err, $('metrics-empty'));
    return;
  }
  if (state.secret !== secret) return;
  state.metrics = Array.isArray(answer?.metrics) ? answer.metrics : [];
  const known = new Set(state.metrics.map((m) => m.id));
  const saved = readSelection();
  const selected = (saved ?? state.metrics.slice(0, DEFAULT_METRICS).map((m) => m.id)).filter((id) => known.has(id));
  $('metrics-empty').textContent =
    state.metrics.length === 0 ? 'No custom metrics yet: an admin client defines them with POST /api/metrics.' : '';
  $('metric-picker').hidden = state.metrics.length === 0;
  renderMetricOptions(selected);
  setSelection(selected);
}

function renderMetricOptions(selected) {
  const box = $('metric-options');
  box.replaceChildren(
    ...state.metrics.map((metric) => {
      const id = `metric-${metric.id}`;
      const wrap = el('div', 'check');
      const input = /** @type {HTMLInputElement} */ (el('input'));
      input.type = 'checkbox';
      input.id = id;
      input.value = metric.id;
      input.checked = selected.includes(metric.id);
      input.addEventListener('change', () => {
        const ids = [...box.querySelectorAll('input:checked')].map((node) => /** @type {HTMLInputElement} */ (node).value);
        sessionStorage.setItem(STORAGE.metrics, JSON.stringify(ids));
        setSelection(ids);
      });
      const label = el('label', '', metric.name);
      label.htmlFor = id;
      wrap.append(input, label);
      return wrap;
    }),
  );
}

/** Shows the charts of exactly these metrics (in the list's order), subscribing as needed. */
function setSelection(ids) {
  const wanted = state.metrics.filter((m) => ids.includes(m.id));
  state.selected = wanted.map((m) => m.id);
  $('metric-count').textContent = state.metrics.length ? `(${wanted.length} of ${state.metrics.length} shown)` : '';
  for (const [id, view] of state.metricViews) {
    if (state.selected.includes(id)) continue;
    send({ type: 'unsubscribe', id: `m-${id}` });
    resizer.unobserve(view.chart.getDom());
    view.chart.dispose();
    view.card.remove();
    state.metricViews.delete(id);
  }
  const container = $('metric-charts');
  for (const metric of wanted) {
    let view = state.metricViews.get(metric.id);
    if (!view) {
      view = metricView(metric);
      state.metricViews.set(metric.id, view);
      send({ type: 'subscribe', id: `m-${metric.id}`, topic: 'metric', metricId: metric.id, points: METRIC_POINTS });
      loadMetricData(view);
    }
    view.metric = metric;
    container.append(view.card); // keeps the list's order
    drawMetric(view);
  }
}

function metricView(metric) {
  const card = el('article', 'metric-card');
  const head = el('div', 'metric-head');
  const title = el('h3', 'metric-name', metric.name);
  const value = el('p', 'metric-value', '–');
  head.append(title, value);
  const chartNode = el('div', 'chart small-chart');
  chartNode.setAttribute('role', 'img');
  chartNode.setAttribute('aria-label', `${metric.name}, per minute, last 30 minutes`);
  const error = el('p', 'form-error');
  card.append(head, chartNode, error);
  $('metric-charts').append(card);
  const chart = echarts.init(chartNode, null, { renderer: 'canvas' });
  resizer.observe(chartNode);
  return { card, chart, value, error, metric, points: [], current: null };
}

/** The chart's first draw, and its refresh while the socket is down: the metric's /data. */
async function loadMetricData(view) {
  const secret = state.secret;
  const to = Date.now();
  const from = Math.floor(to / 60_000) * 60_000 - (METRIC_POINTS - 1) * 60_000;
  try {
    const answer = await api(
      `/api/metrics/${encodeURIComponent(view.metric.id)}/data?from=${from}&to=${to}&interval=minute&fill=true&timezone=${encodeURIComponent(TIME_ZONE)}`,
    );
    if (state.secret !== secret || state.metricViews.get(view.metric.id) !== view) return;
    // A live message may have come first: it is newer.
    if (view.points.length > 0) return;
    view.points = (answer?.series?.[0]?.points ?? []).map((p) => ({ t: p.t, value: p.value }));
    view.current = view.points.length ? view.points[view.points.length - 1].value : null;
    view.error.textContent = '';
    drawMetric(view);
  } catch (err) {
    if (state.secret === secret) onApiError(err, view.error);
  }
}

function onMetric(m) {
  if (typeof m.subscription !== 'string' || !m.subscription.startsWith('m-')) return;
  const view = state.metricViews.get(m.subscription.slice(2));
  if (!view) return;
  view.points = Array.isArray(m.points) ? m.points : [];
  view.current = m.value ?? null;
  view.error.textContent = '';
  drawMetric(view);
}

/** A metric's unit, as the chart spec reads it. */
function specUnit(metric) {
  const unit = String(metric.unit || '').toLowerCase();
  if (['percent', 'percentage', '%', 'pct'].includes(unit)) return 'percent';
  if (['s', 'sec', 'secs', 'second', 'seconds'].includes(unit)) return 'seconds';
  if (metric.aggregation === 'count' || metric.aggregation === 'unique') return 'count';
  return 'number';
}

function drawMetric(view) {
  const unit = specUnit(view.metric);
  const suffix = view.metric.unit && !['percent', 'seconds', 'count'].includes(unit) ? ` ${view.metric.unit}` : '';
  view.value.textContent = `${formatMeasure(view.current, unit)}${view.current === null ? '' : suffix}`;
  view.value.title = 'This minute so far';
  const points = view.points.slice(-METRIC_POINTS);
  const thisMinute = Math.floor(Date.now() / 60_000) * 60_000;
  const last = points.length ? Date.parse(points[points.length - 1].t) : NaN;
  const spec = {
    type: 'line',
    categories: points.map((p) => hm(Date.parse(p.t))),
    series: [{ name: view.metric.name, values: points.map((p) => (p.value === null || p.value === undefined ? null : Number(p.value))) }],
    unit,
    ...(last >= thisMinute ? { inProgressFrom: points.length - 1 } : {}),
  };
  draw(view.chart, spec, { legend: false });
}

// ---- Insights: today -----------------------------------------------------------------------

async function loadInsights() {
  const secret = state.secret;
  if (!secret || !state.accountId) return;
  const base = `/insights/${encodeURIComponent(state.accountId)}`;
  const query = `range=today&timezone=${encodeURIComponent(TIME_ZONE)}`;
  let figures;
  let series;
  try {
    [figures, series] = await Promise.all([api(`${base}/metrics?${query}`), api(`${base}/timeseries?${query}&interval=hour`)]);
  } catch (err) {
    if (state.secret === secret) onApiError(err, $('insights-error'));
    return;
  }
  if (state.secret !== secret) return;
  $('insights-error').textContent = '';
  const now = figures?.metrics ?? {};
  $('i-visitors').textContent = formatCount(Number(now.unique_visitors) || 0);
  $('i-sessions').textContent = formatCount(Number(now.total_sessions) || 0);
  $('i-views').textContent = formatCount(Number(now.total_screen_views) || 0);
  $('insights-updated').textContent = `updated ${hm(Date.now())}`;

  // The day so far: the hours to come are left out (the in-progress shading would cover them).
  const rows = (Array.isArray(series?.series) ? series.series : []).filter((row) => Date.parse(row.date) <= Date.now());
  const hourNow = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const values = (key) => rows.map((row) => Number(row[key]) || 0);
  const current = rows.findIndex((row) => Date.parse(row.date) >= hourNow);
  const spec = {
    type: 'line',
    categories: rows.map((row) => hm(Date.parse(row.date))),
    series: [
      { name: 'Visitors', values: values('unique_visitors') },
      { name: 'Sessions', values: values('total_sessions') },
      { name: 'Page views', values: values('total_screen_views') },
    ],
    unit: 'count',
    ...(current >= 0 ? { inProgressFrom: current } : {}),
  };
  const chart = chartFor('insights-chart');
  if (chart) draw(chart, spec);
}

// ---- Alerts --------------------------------------------------------------------------------

const STATE_ORDER = ['firing', 'error', 'pending', 'no_data', 'ok'];
const STATE_TEXT = { firing: 'Firing', error: 'Error', pending: 'Pending', no_data: 'No data', ok: 'OK', learning: 'Learning' };

async function loadAlerts() {
  const secret = state.secret;
  let answer;
  try {
    answer = await api('/api/alerts?limit=100');
  } catch (err) {
    if (state.secret === secret) onApiError(err, $('alerts-error'));
    return;
  }
  if (state.secret !== secret) return;
  $('alerts-error').textContent = '';
  $('alerts-updated').textContent = `updated ${hm(Date.now())}`;
  const alerts = Array.isArray(answer?.alerts) ? [...answer.alerts] : [];
  const rank = (a) => {
    const i = STATE_ORDER.indexOf(a.status?.state);
    return i < 0 ? STATE_ORDER.length : i;
  };
  alerts.sort((a, b) => rank(a) - rank(b) || String(a.name).localeCompare(String(b.name)));
  const list = $('alert-list');
  if (alerts.length === 0) {
    list.replaceChildren(el('li', 'muted', 'No alerts defined for this account.'));
    return;
  }
  list.replaceChildren(...alerts.map(alertRow));
}

function alertRow(alert) {
  const status = alert.status || {};
  const stateName = String(status.state || 'unknown');
  const li = el('li', 'alert');
  const badge = el('span', `badge state-${stateName.replace(/[^a-z_]/g, '')}`, STATE_TEXT[stateName] || stateName);
  const body = el('div', 'alert-body');
  const name = el('span', 'alert-name', String(alert.name));
  const details = [];
  if (alert.severity) details.push(String(alert.severity));
  if (alert.metric?.name) details.push(`on ${alert.metric.name}`);
  if (status.lastValue !== undefined && status.lastValue !== null) details.push(`last value ${status.lastValue}`);
  const since = Date.parse(status.since);
  if (Number.isFinite(since)) details.push(`since ${new Date(since).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' })}`);
  body.append(name, el('span', 'alert-detail', details.join(' · ')));
  if (status.lastError) body.append(el('span', 'alert-detail error-text', String(status.lastError)));
  li.append(badge, body);
  return li;
}

// ---- Start ---------------------------------------------------------------------------------

$('sign-in-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const secret = /** @type {HTMLInputElement} */ ($('secret')).value.trim();
  if (!secret) {
    $('sign-in-error').textContent = 'Paste a client secret first.';
    $('secret').setAttribute('aria-invalid', 'true');
    $('secret').focus();
    return;
  }
  signIn(secret, false);
});
$('secret').addEventListener('input', () => $('secret').removeAttribute('aria-invalid'));
$('sign-out').addEventListener('click', () => signOut());
$('feed-filter').addEventListener('input', onFilterInput);
$('feed-filter').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') {
    window.clearTimeout(filterTimer);
    applyFilter();
  }
});
$('feed-pause').addEventListener('click', () => setPaused(!state.paused));

const saved = sessionStorage.getItem(STORAGE.secret);
if (saved) signIn(saved, true);
else $('secret').focus();
