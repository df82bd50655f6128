import { join } from 'node:path';
/**
 * Every setting the service reads, declared once: its environment variable, default,
 * parser and a one-line description. `.env.example` and the README's configuration table
 * are checked against this list by a test, so they cannot drift.
 */

export type FsyncPolicy = 'always' | 'everysec' | 'no';
export type Role = 'all' | 'api' | 'worker';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface AppConfig {
  role: Role;
  port: number;
  host: string;
  dataDir: string;
  logLevel: LogLevel;
  rootApiKey: string | undefined;
  trustedProxies: string[];
  retentionDays: number;
  /** Pause between two chunks of a backfill after a migration (lets ingest have the cores) */
  backfillPauseMs: number;
  /** Minutes of inactivity that end a device's session */
  sessionTimeoutMinutes: number;
  clickhouse: {
    url: string | undefined;
    user: string;
    password: string;
    database: string;
  };
  chdbSessions: number;
  queryTimeoutMs: number;
  ingest: {
    fsync: FsyncPolicy;
    flushIntervalMs: number;
    flushMaxEvents: number;
    logMaxBytes: number;
    memoryBufferBytes: number;
    dedupWindow: number;
  };
  redisUrl: string | undefined;
  jobsPrefix: string;
  jobsConcurrency: number;
  nats: {
    url: string | undefined;
    stream: string;
    subject: string;
    consumer: string;
    maxBytes: number;
    maxAgeHours: number;
    duplicateWindowSeconds: number;
    replicas: number;
    fetchMaxMessages: number;
    ackWaitSeconds: number;
  };
  mongodbUri: string | undefined;
  elasticsearch: {
    node: string | undefined;
    username: string | undefined;
    password: string | undefined;
    apiKey: string | undefined;
    indexPrefix: string;
  };
  /** Where users reach this service (links in emails); unset: http://localhost:PORT. */
  publicUrl: string;
  /** Key that signs expiring links and live tokens; unset: generated into DATA_DIR/signing-key. */
  signingSecret: string | undefined;
  mail: {
    smtpUrl: string | undefined;
    from: string;
  };
  reports: {
    /** Where generated files are kept; unset: DATA_DIR/reports. */
    dir: string;
    retentionDays: number;
    maxAttachmentBytes: number;
    linkTtlHours: number;
  };
  alerts: {
    /** How often the evaluation tick looks for windows to judge. */
    evalIntervalMs: number;
    /** How long after a window closes it is judged (events arriving late still count). */
    evalDelayMs: number;
    historyDays: number;
    /** Channel URLs may point at private, loopback and link-local addresses (tests, internal hooks). */
    allowPrivateUrls: boolean;
  };
  live: {
    tokenTtlSeconds: number;
    maxMessagesPerSecond: number;
    queueMessages: number;
    heartbeatMs: number;
    metricIntervalMs: number;
  };
  fechatter: {
    /** Consume Fechatter's analytics stream from NATS JetStream. */
    natsEnabled: boolean;
    /** FECHATTER_NATS_URL, else NATS_URL. */
    natsUrl: string | undefined;
    /** The account the stream's events are recorded in. */
    accountId: string | undefined;
    stream: string;
    /** A subject filter (`fechatter.analytics.>`). */
    subjects: string;
    consumer: string;
    deadLetterStream: string;
  };
}

type Parser<T> = (raw: string) => T;

interface Setting<T> {
  env: string;
  /** Default as it would be written in the environment; undefined = optional, unset. */
  default: string | undefined;
  description: string;
  parse: Parser<T>;
}

const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> =>
  (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${n}`);
    return n;
  };

const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) => {
    if (!(values as string[]).includes(raw)) throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  };

const text: Parser<string> = (raw) => raw;

const url: Parser<string> = (raw) => {
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
    return raw;
  } catch {
    throw new Error(`must be an http(s) URL, got "${raw}"`);
  }
};

const urlWith =
  (...protocols: string[]): Parser<string> =>
  (raw) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new Error(`must be a URL (${protocols.join(' or ')}), got "${raw}"`);
    }
    if (!protocols.includes(u.protocol.replace(/:$/, ''))) {
      throw new Error(`must be a ${protocols.join(' or ')} URL, got "${raw}"`);
    }
    return raw;
  };

const identifier =
  (pattern: RegExp, what: string): Parser<string> =>
  (raw) => {
    if (!pattern.test(raw)) throw new Error(`must be ${what}, got "${raw}"`);
    return raw;
  };

/** Comma-separated nats:// or tls:// server URLs. */
const natsServers: Parser<string> = (raw) => {
  for (const server of raw.split(',')) urlWith('nats', 'tls')(server.trim());
  return raw;
};

const list: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const bool: Parser<boolean> = (raw) => {
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no|)$/i.test(raw)) return false;
  throw new Error(`must be true or false, got "${raw}"`);
};

const secret: Parser<string> = (raw) => {
  if (raw.length < 16) throw new Error('must be at least 16 characters long');
  return raw;
};

/** The schema: order here is the order of `.env.example` and the README table. */
export const SETTINGS = {
  role: {
    env: 'ROLE',
    default: 'all',
    description:
      'What this process runs: all (API and workers), api (HTTP and WebSocket only) or worker (ingest writers, jobs, schedules); api and worker need NATS_URL',
    parse: oneOf<Role>('all', 'api', 'worker'),
  },
  port: { env: 'PORT', default: '3004', description: 'HTTP port the API listens on', parse: integer(0, 65535) },
  host: { env: 'HOST', default: '0.0.0.0', description: 'Address the API binds to', parse: text },
  dataDir: {
    env: 'DATA_DIR',
    default: './data',
    description: 'Directory for embedded data: chDB events, NeDB documents, the ingest log and the generated root key',
    parse: text,
  },
  logLevel: {
    env: 'LOG_LEVEL',
    default: 'info',
    description: 'pino log level (fatal, error, warn, info, debug, trace, silent)',
    parse: oneOf<LogLevel>('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  },
  rootApiKey: {
    env: 'ROOT_API_KEY',
    default: undefined,
    description: 'Key for account management (POST/GET /api/accounts); generated into DATA_DIR/root-api-key and logged once when unset',
    parse: secret,
  },
  trustedProxies: {
    env: 'TRUSTED_PROXIES',
    default: '',
    description: 'Comma-separated proxy IPs/CIDRs whose X-Forwarded-For is believed; empty = trust none',
    parse: list,
  },
  retentionDays: {
    env: 'RETENTION_DAYS',
    default: '90',
    description: 'Days events are kept (a ClickHouse TTL); older timestamps are rejected at ingest; at most 10000 (TTLs are DateTime, which ends in 2106)',
    // A longer retention would carry the TTL past DateTime's end (2106-02-07), where ClickHouse
    // wraps it around into the past and deletes every row at its next merge.
    parse: integer(1, 10_000),
  },
  backfillPauseMs: {
    env: 'BACKFILL_PAUSE_MS',
    default: '0',
    description:
      'Pause between two one-day chunks of a backfill that fills a new rollup column of events stored before an upgrade (it runs after boot on writers)',
    parse: integer(0, 3_600_000),
  },
  sessionTimeoutMinutes: {
    env: 'SESSION_TIMEOUT_MINUTES',
    default: '30',
    description: 'Minutes of inactivity after which a device’s next event starts a new session',
    parse: integer(1, 1440),
  },
  clickhouseUrl: {
    env: 'CLICKHOUSE_URL',
    default: undefined,
    description: 'ClickHouse server HTTP URL; when unset events live in embedded chDB under DATA_DIR',
    parse: url,
  },
  clickhouseUser: { env: 'CLICKHOUSE_USER', default: 'default', description: 'ClickHouse user', parse: text },
  clickhousePassword: { env: 'CLICKHOUSE_PASSWORD', default: '', description: 'ClickHouse password', parse: text },
  clickhouseDatabase: {
    env: 'CLICKHOUSE_DATABASE',
    default: 'analytics',
    description: 'ClickHouse database (created at boot if missing; server only)',
    parse: (raw: string) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw)) throw new Error(`must be a plain identifier, got "${raw}"`);
      return raw;
    },
  },
  chdbSessions: {
    env: 'CHDB_SESSIONS',
    default: '3',
    description: 'chDB sessions kept open (one is reserved for writes, the rest serve reads in parallel)',
    parse: integer(2, 32),
  },
  queryTimeoutMs: {
    env: 'QUERY_TIMEOUT_MS',
    default: '30000',
    description: 'Upper bound on any one query (ClickHouse max_execution_time)',
    parse: integer(100, 3_600_000),
  },
  ingestFsync: {
    env: 'INGEST_FSYNC',
    default: 'everysec',
    description:
      'Ingest log fsync policy: always (fsync before every ack; survives power loss), everysec (written before the ack, fsynced each second; survives kill -9 of the process), no (written before the ack, fsync left to the OS)',
    parse: oneOf<FsyncPolicy>('always', 'everysec', 'no'),
  },
  ingestFlushIntervalMs: {
    env: 'INGEST_FLUSH_INTERVAL_MS',
    default: '1000',
    description: 'How often the ingest log is written to the events store',
    parse: integer(10, 60_000),
  },
  ingestFlushMaxEvents: {
    env: 'INGEST_FLUSH_MAX_EVENTS',
    default: '50000',
    description: 'Flush earlier once this many events are waiting',
    parse: integer(1, 10_000_000),
  },
  ingestLogMaxBytes: {
    env: 'INGEST_LOG_MAX_BYTES',
    default: String(1024 * 1024 * 1024),
    description: 'Unflushed ingest log size at which ingestion answers 503 with Retry-After (store down or too slow)',
    parse: integer(1024 * 1024),
  },
  ingestMemoryBufferBytes: {
    env: 'INGEST_MEMORY_BUFFER_BYTES',
    default: String(64 * 1024 * 1024),
    description: 'Unflushed events also kept in memory up to this size; beyond it they are re-read from the log file',
    parse: integer(0),
  },
  ingestDedupWindow: {
    env: 'INGEST_DEDUP_WINDOW',
    default: '500000',
    description:
      'How many recent client-supplied event ids each process remembers to drop retried duplicates (about 150 bytes each)',
    parse: integer(0, 50_000_000),
  },
  redisUrl: {
    env: 'REDIS_URL',
    default: undefined,
    description: 'Redis for jobs (Bull) and live fan-out between replicas (pub/sub); in-process when unset',
    parse: urlWith('redis', 'rediss'),
  },
  jobsPrefix: {
    env: 'JOBS_PREFIX',
    default: 'analytics',
    description: 'Prefix of the jobs\' keys in Redis, so deployments (or test runs) sharing one Redis keep their queues apart',
    parse: identifier(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ or -'),
  },
  jobsConcurrency: {
    env: 'JOBS_CONCURRENCY',
    default: '2',
    description: 'Jobs of one kind that one worker runs at once',
    parse: integer(1, 64),
  },
  natsUrl: {
    env: 'NATS_URL',
    default: undefined,
    description: 'NATS with JetStream for the durable ingest log (comma-separated servers); the local log under DATA_DIR when unset',
    parse: natsServers,
  },
  natsStream: {
    env: 'NATS_STREAM',
    default: 'ANALYTICS_EVENTS',
    description: 'JetStream stream holding accepted events until the writers store them',
    parse: identifier(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ or -'),
  },
  natsSubject: {
    env: 'NATS_SUBJECT',
    default: 'analytics.events',
    description: 'Subject accepted events are published on',
    parse: identifier(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'a dot-separated NATS subject without wildcards'),
  },
  natsConsumer: {
    env: 'NATS_CONSUMER',
    default: 'event-writer',
    description: 'Durable pull consumer shared by all writers',
    parse: identifier(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ or -'),
  },
  natsMaxBytes: {
    env: 'NATS_MAX_BYTES',
    default: String(10 * 1024 * 1024 * 1024),
    description: 'Stream size limit; when reached new events are refused (503) rather than old ones dropped',
    parse: integer(1024 * 1024),
  },
  natsMaxAgeHours: {
    env: 'NATS_MAX_AGE_HOURS',
    default: '168',
    description: 'How long an event may wait in the stream for a writer',
    parse: integer(1, 24 * 365),
  },
  natsDuplicateWindowSeconds: {
    env: 'NATS_DUPLICATE_WINDOW_SECONDS',
    default: '300',
    description: 'JetStream drops a message whose id it saw within this window (retried batches with client event ids)',
    parse: integer(1, 86_400),
  },
  natsReplicas: {
    env: 'NATS_REPLICAS',
    default: '1',
    description: 'Stream replicas (3 on a JetStream cluster)',
    parse: integer(1, 5),
  },
  natsFetchMaxMessages: {
    env: 'NATS_FETCH_MAX_MESSAGES',
    default: '200',
    description: 'Messages a writer takes per fetch and stores in one insert (a message is one request: 1 to 1000 events)',
    parse: integer(1, 10_000),
  },
  natsAckWaitSeconds: {
    env: 'NATS_ACK_WAIT_SECONDS',
    default: '60',
    description: 'A message not acknowledged within this time is redelivered to another writer',
    parse: integer(5, 3600),
  },
  mongodbUri: {
    env: 'MONGODB_URI',
    default: undefined,
    description: 'MongoDB for accounts and definitions; NeDB files under DATA_DIR when unset',
    parse: urlWith('mongodb', 'mongodb+srv'),
  },
  elasticsearchNode: {
    env: 'ELASTICSEARCH_NODE',
    default: undefined,
    description: 'Elasticsearch URL for event search; search runs on the events store when unset',
    parse: url,
  },
  elasticsearchUsername: { env: 'ELASTICSEARCH_USERNAME', default: undefined, description: 'Elasticsearch user (basic auth)', parse: text },
  elasticsearchPassword: { env: 'ELASTICSEARCH_PASSWORD', default: undefined, description: 'Elasticsearch password (basic auth)', parse: text },
  elasticsearchApiKey: { env: 'ELASTICSEARCH_API_KEY', default: undefined, description: 'Elasticsearch API key (instead of user and password)', parse: text },
  elasticsearchIndexPrefix: {
    env: 'ELASTICSEARCH_INDEX_PREFIX',
    default: 'analytics',
    description: 'Prefix of the index template and monthly event indices',
    parse: identifier(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, _ or -'),
  },
  publicUrl: {
    env: 'PUBLIC_URL',
    default: undefined,
    description: 'Base URL users reach the service at, for links in emails (e.g. https://analytics.example.com); default http://localhost:PORT',
    parse: urlWith('http', 'https'),
  },
  signingSecret: {
    env: 'SIGNING_SECRET',
    default: undefined,
    description: 'Secret that signs expiring download links and live tokens (at least 16 characters; the same on every replica); generated into DATA_DIR/signing-key when unset',
    parse: secret,
  },
  smtpUrl: {
    env: 'SMTP_URL',
    default: undefined,
    description: 'SMTP server for report and alert emails (smtp://user:pass@host:587 or smtps://…:465); unset: emails are written as .eml files to DATA_DIR/outbox',
    parse: urlWith('smtp', 'smtps'),
  },
  mailFrom: {
    env: 'MAIL_FROM',
    default: 'Analytics <analytics@localhost>',
    description: 'From address of report and alert emails',
    parse: text,
  },
  reportsDir: {
    env: 'REPORTS_DIR',
    default: undefined,
    description: 'Directory for generated report files (shared by all replicas in a split deployment); default DATA_DIR/reports',
    parse: text,
  },
  reportsRetentionDays: {
    env: 'REPORTS_RETENTION_DAYS',
    default: '90',
    description: 'Days a report run and its file are kept',
    parse: integer(1, 3650),
  },
  reportsMaxAttachmentMb: {
    env: 'REPORTS_MAX_ATTACHMENT_MB',
    default: '10',
    description: 'Largest report file attached to an email; a larger one is sent as a signed, expiring download link',
    parse: integer(1, 100),
  },
  reportsLinkTtlHours: {
    env: 'REPORTS_LINK_TTL_HOURS',
    default: '168',
    description: 'Hours a report download link in an email stays valid',
    parse: integer(1, 8760),
  },
  alertsEvalInterval: {
    env: 'ALERTS_EVAL_INTERVAL',
    default: '60',
    description: 'Seconds between alert evaluation ticks (a tick only enqueues the windows that closed)',
    parse: integer(1, 3600),
  },
  alertsEvalDelay: {
    env: 'ALERTS_EVAL_DELAY',
    default: '60',
    description: 'Seconds after a window closes before it is judged, so events that arrive a little late still count',
    parse: integer(0, 3600),
  },
  alertsHistoryDays: {
    env: 'ALERTS_HISTORY_DAYS',
    default: '90',
    description: 'Days an alert\'s history (state changes and delivery attempts) is kept',
    parse: integer(1, 3650),
  },
  alertsAllowPrivateUrls: {
    env: 'ALERTS_ALLOW_PRIVATE_URLS',
    default: 'false',
    description: 'Let Slack and webhook channel URLs point at private, loopback and link-local addresses (refused by default: alerts must not probe the internal network)',
    parse: bool,
  },
  liveTokenTtl: {
    env: 'LIVE_TOKEN_TTL',
    default: '300',
    description: 'Seconds a live token from POST /api/live/tokens opens WebSockets for (a socket stays open after)',
    parse: integer(10, 86_400),
  },
  liveMaxMessagesPerSecond: {
    env: 'LIVE_MAX_MESSAGES_PER_SECOND',
    default: '20',
    description: 'Messages a live socket gets per second at most; more updates in between are coalesced into the next',
    parse: integer(1, 1000),
  },
  liveQueueMessages: {
    env: 'LIVE_QUEUE_MESSAGES',
    default: '200',
    description: 'Messages held for a live socket that reads slowly; beyond it the oldest are dropped (and the socket told how many)',
    parse: integer(1, 100_000),
  },
  liveHeartbeat: {
    env: 'LIVE_HEARTBEAT',
    default: '30',
    description: 'Seconds between WebSocket pings; a socket that did not answer the previous one is closed',
    parse: integer(1, 3600),
  },
  liveMetricInterval: {
    env: 'LIVE_METRIC_INTERVAL',
    default: '5',
    description: 'Seconds between updates of a live custom metric (each metric computed once per tick for all its subscribers)',
    parse: integer(1, 3600),
  },
  fechatterNatsEnabled: {
    env: 'FECHATTER_NATS_ENABLED',
    default: 'false',
    description: "Consume Fechatter's analytics events from NATS JetStream (stream FECHATTER_NATS_STREAM, subjects FECHATTER_NATS_SUBJECTS); needs FECHATTER_ACCOUNT_ID and a NATS URL",
    parse: bool,
  },
  fechatterNatsUrl: {
    env: 'FECHATTER_NATS_URL',
    default: undefined,
    description: "NATS servers Fechatter publishes to (comma-separated); unset: NATS_URL. Set it alone to consume Fechatter's stream while the ingest log stays local",
    parse: natsServers,
  },
  fechatterAccountId: {
    env: 'FECHATTER_ACCOUNT_ID',
    default: undefined,
    description: "The account Fechatter's NATS events are recorded in (its id, from POST /api/accounts)",
    parse: identifier(/^[A-Za-z0-9_-]{1,100}$/, 'an account id'),
  },
  fechatterNatsStream: {
    env: 'FECHATTER_NATS_STREAM',
    default: 'ANALYTICS',
    description: "Fechatter's JetStream stream; created if missing with Fechatter's limits (file storage, 30 days, 1 GB, 10 M messages), left as it is if it exists",
    parse: identifier(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ or -'),
  },
  fechatterNatsSubjects: {
    env: 'FECHATTER_NATS_SUBJECTS',
    default: 'fechatter.analytics.>',
    description: "Subjects of Fechatter's stream that are consumed (a message on a subject ending in .batch may be a BatchRecordEventsRequest)",
    parse: identifier(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(\.>)?$/, 'a dot-separated NATS subject, optionally ending in .>'),
  },
  fechatterNatsConsumer: {
    env: 'FECHATTER_NATS_CONSUMER',
    default: 'analytics-processor',
    description: "Durable pull consumer on Fechatter's stream, shared by all workers (Fechatter's own name by default)",
    parse: identifier(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ or -'),
  },
  fechatterNatsDeadLetterStream: {
    env: 'FECHATTER_NATS_DEAD_LETTER_STREAM',
    default: 'ANALYTICS_DEAD_LETTER',
    description: 'Stream that keeps undecodable or refused Fechatter messages (subjects dead-letter.<this name>.<original subject>, 30 days), with the reason in a header',
    parse: identifier(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ or -'),
  },
} satisfies Record<string, Setting<unknown>>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Key = keyof typeof SETTINGS;
type Parsed = { [K in Key]: ReturnType<(typeof SETTINGS)[K]['parse']> | undefined };

/** Parses the environment, reporting every bad variable at once (fail fast, clear message). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  const values = {} as Record<string, unknown>;
  for (const [key, setting] of Object.entries(SETTINGS) as [Key, Setting<unknown>][]) {
    const given = env[setting.env];
    const raw = given === undefined || given === '' ? setting.default : given;
    if (raw === undefined) {
      values[key] = undefined;
      continue;
    }
    try {
      values[key] = setting.parse(raw);
    } catch (err) {
      problems.push(`${setting.env} ${(err as Error).message}`);
    }
  }
  const v = values as Parsed;
  // Rules that involve more than one setting.
  if (problems.length === 0 && v.role !== 'all' && !v.natsUrl) {
    problems.push(`ROLE=${v.role} needs NATS_URL: api and worker processes share the ingest log through JetStream`);
  }
  if (problems.length === 0 && v.role !== 'all' && !v.redisUrl) {
    problems.push(`ROLE=${v.role} needs REDIS_URL: jobs enqueued by one process are run by the workers`);
  }
  if (problems.length === 0 && v.role !== 'all' && !v.clickhouseUrl) {
    problems.push(`ROLE=${v.role} needs CLICKHOUSE_URL: separate processes cannot share an embedded chDB directory`);
  }
  if (problems.length === 0 && v.fechatterNatsEnabled && !(v.fechatterNatsUrl ?? v.natsUrl)) {
    problems.push('FECHATTER_NATS_ENABLED needs FECHATTER_NATS_URL or NATS_URL: the NATS servers Fechatter publishes to');
  }
  if (problems.length === 0 && v.fechatterNatsEnabled && !v.fechatterAccountId) {
    problems.push("FECHATTER_NATS_ENABLED needs FECHATTER_ACCOUNT_ID: the account Fechatter's events are recorded in");
  }
  if (v.elasticsearchApiKey && (v.elasticsearchUsername || v.elasticsearchPassword)) {
    problems.push('ELASTICSEARCH_API_KEY and ELASTICSEARCH_USERNAME/PASSWORD are alternatives: set one');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    role: v.role!,
    port: v.port!,
    host: v.host!,
    dataDir: v.dataDir!,
    logLevel: v.logLevel!,
    rootApiKey: v.rootApiKey,
    trustedProxies: v.trustedProxies!,
    retentionDays: v.retentionDays!,
    backfillPauseMs: v.backfillPauseMs!,
    sessionTimeoutMinutes: v.sessionTimeoutMinutes!,
    clickhouse: {
      url: v.clickhouseUrl,
      user: v.clickhouseUser!,
      password: v.clickhousePassword!,
      database: v.clickhouseDatabase!,
    },
    chdbSessions: v.chdbSessions!,
    queryTimeoutMs: v.queryTimeoutMs!,
    ingest: {
      fsync: v.ingestFsync!,
      flushIntervalMs: v.ingestFlushIntervalMs!,
      flushMaxEvents: v.ingestFlushMaxEvents!,
      logMaxBytes: v.ingestLogMaxBytes!,
      memoryBufferBytes: v.ingestMemoryBufferBytes!,
      dedupWindow: v.ingestDedupWindow!,
    },
    redisUrl: v.redisUrl,
    jobsPrefix: v.jobsPrefix!,
    jobsConcurrency: v.jobsConcurrency!,
    nats: {
      url: v.natsUrl,
      stream: v.natsStream!,
      subject: v.natsSubject!,
      consumer: v.natsConsumer!,
      maxBytes: v.natsMaxBytes!,
      maxAgeHours: v.natsMaxAgeHours!,
      duplicateWindowSeconds: v.natsDuplicateWindowSeconds!,
      replicas: v.natsReplicas!,
      fetchMaxMessages: v.natsFetchMaxMessages!,
      ackWaitSeconds: v.natsAckWaitSeconds!,
    },
    mongodbUri: v.mongodbUri,
    elasticsearch: {
      node: v.elasticsearchNode,
      username: v.elasticsearchUsername,
      password: v.elasticsearchPassword,
      apiKey: v.elasticsearchApiKey,
      indexPrefix: v.elasticsearchIndexPrefix!,
    },
    publicUrl: (v.publicUrl ?? `http://localhost:${v.port}`).replace(/\/+$/, ''),
    signingSecret: v.signingSecret,
    mail: { smtpUrl: v.smtpUrl, from: v.mailFrom! },
    reports: {
      dir: v.reportsDir ?? join(v.dataDir!, 'reports'),
      retentionDays: v.reportsRetentionDays!,
      maxAttachmentBytes: v.reportsMaxAttachmentMb! * 1024 * 1024,
      linkTtlHours: v.reportsLinkTtlHours!,
    },
    alerts: {
      evalIntervalMs: v.alertsEvalInterval! * 1000,
      evalDelayMs: v.alertsEvalDelay! * 1000,
      historyDays: v.alertsHistoryDays!,
      allowPrivateUrls: v.alertsAllowPrivateUrls!,
    },
    live: {
      tokenTtlSeconds: v.liveTokenTtl!,
      maxMessagesPerSecond: v.liveMaxMessagesPerSecond!,
      queueMessages: v.liveQueueMessages!,
      heartbeatMs: v.liveHeartbeat! * 1000,
      metricIntervalMs: v.liveMetricInterval! * 1000,
    },
    fechatter: {
      natsEnabled: v.fechatterNatsEnabled!,
      natsUrl: v.fechatterNatsUrl ?? v.natsUrl,
      accountId: v.fechatterAccountId,
      stream: v.fechatterNatsStream!,
      subjects: v.fechatterNatsSubjects!,
      consumer: v.fechatterNatsConsumer!,
      deadLetterStream: v.fechatterNatsDeadLetterStream!,
    },
  };
}

/** Environment variable names of every setting (used by docs checks and manifests tests). */
export function settingNames(): string[] {
  return Object.values(SETTINGS).map((s) => s.env);
}

export function settingDocs(): { env: string; default: string | undefined; description: string }[] {
  return Object.values(SETTINGS).map((s) => ({ env: s.env, default: s.default, description: s.description }));
}
