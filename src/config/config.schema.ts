/**
 * Every setting the service reads, declared once: its environment variable, default,
 * parser and a one-line description. `.env.example` and the README's configuration table
 * are checked against this list by a test, so they cannot drift.
 */

export type FsyncPolicy = 'always' | 'everysec' | 'no';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  logLevel: LogLevel;
  rootApiKey: string | undefined;
  trustedProxies: string[];
  retentionDays: number;
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

const list: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const secret: Parser<string> = (raw) => {
  if (raw.length < 16) throw new Error('must be at least 16 characters long');
  return raw;
};

/** The schema: order here is the order of `.env.example` and the README table. */
export const SETTINGS = {
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
    description: 'Days events are kept (a ClickHouse TTL); older timestamps are rejected at ingest',
    parse: integer(1, 36500),
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
  if (problems.length > 0) throw new ConfigError(problems);
  const v = values as Parsed;
  return {
    port: v.port!,
    host: v.host!,
    dataDir: v.dataDir!,
    logLevel: v.logLevel!,
    rootApiKey: v.rootApiKey,
    trustedProxies: v.trustedProxies!,
    retentionDays: v.retentionDays!,
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
  };
}

/** Environment variable names of every setting (used by docs checks and manifests tests). */
export function settingNames(): string[] {
  return Object.values(SETTINGS).map((s) => s.env);
}

export function settingDocs(): { env: string; default: string | undefined; description: string }[] {
  return Object.values(SETTINGS).map((s) => ({ env: s.env, default: s.default, description: s.description }));
}
