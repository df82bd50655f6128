import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory.js';
import type { InfrastructureOverrides } from '../../src/infrastructure/infrastructure.module.js';
import { type AppConfig, loadConfig } from '../../src/config/config.schema.js';
import { createRootLogger } from '../../src/observability/logger.js';

export const ROOT_KEY = 'root-key-for-tests-0123456789';

export interface TestApp {
  url: string;
  app: NestFastifyApplication;
  config: AppConfig;
  close(): Promise<void>;
}

/** Environment for a test instance: a fresh DATA_DIR, quiet logs, a fast flush. */
export function testEnv(env: Record<string, string> = {}): Record<string, string> {
  return {
    DATA_DIR: mkdtempSync(join(tmpdir(), 'analytics-test-')),
    LOG_LEVEL: 'silent',
    ROOT_API_KEY: ROOT_KEY,
    INGEST_FLUSH_INTERVAL_MS: '100',
    ...env,
  };
}

/** Boots the real application in this process (real chDB, real NeDB files) on a free port. */
export async function startApp(env: Record<string, string> = {}, overrides: InfrastructureOverrides = {}): Promise<TestApp> {
  const config = loadConfig(testEnv(env));
  const app = await createApp(config, createRootLogger(config.logLevel), overrides);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, app, config, close: () => app.close() };
}

export interface Credentials {
  accountId: string;
  write: string;
  read: string;
  admin: string;
  clients: Record<'write' | 'read' | 'admin', { clientId: string; clientSecret: string }>;
}

export async function call(
  url: string,
  method: string,
  path: string,
  options: { secret?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.secret) headers.authorization = `Bearer ${options.secret}`;
  let body: string | undefined;
  if (options.raw !== undefined) {
    body = options.raw;
    headers['content-type'] ??= 'application/json';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(url + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export async function createAccount(url: string, name = 'acme'): Promise<Credentials> {
  const res = await call(url, 'POST', '/api/accounts', { secret: ROOT_KEY, body: { name } });
  if (res.status !== 201) throw new Error(`account creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  const c = res.body.clients;
  return {
    accountId: res.body.id,
    write: c.write.clientSecret,
    read: c.read.clientSecret,
    admin: c.admin.clientSecret,
    clients: c,
  };
}

/** Polls until `check` passes (events become searchable after the log's next flush). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await check();
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw lastError;
}

/** Every stored event id of one event name, paging through search (ids in newest-first order). */
export async function storedEventIds(url: string, secret: string, eventName: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const r = await call(url, 'GET', `/api/events/search?eventName=${eventName}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`, {
      secret,
    });
    if (r.status !== 200) throw new Error(`search failed: ${r.status} ${JSON.stringify(r.body)}`);
    ids.push(...r.body.events.map((e: { eventId: string }) => e.eventId));
    cursor = r.body.nextCursor;
  }
  return ids;
}

/** Polls search until at least `count` events of that name are stored (or the time is up). */
export async function waitForStoredEvents(
  url: string,
  secret: string,
  eventName: string,
  count: number,
  { timeoutMs = 60_000, everyMs = 250 } = {},
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let stored = await storedEventIds(url, secret, eventName);
  while (stored.length < count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, everyMs));
    stored = await storedEventIds(url, secret, eventName);
  }
  return stored;
}
