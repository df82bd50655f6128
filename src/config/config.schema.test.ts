import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, settingDocs, settingNames } from './config.schema.js';

describe('configuration', () => {
  it('runs on defaults with nothing set', () => {
    const c = loadConfig({});
    assert.equal(c.port, 3004);
    assert.equal(c.dataDir, './data');
    assert.equal(c.retentionDays, 90);
    assert.equal(c.clickhouse.url, undefined, 'embedded chDB unless CLICKHOUSE_URL is set');
    assert.equal(c.ingest.fsync, 'everysec');
    assert.deepEqual(c.trustedProxies, []);
  });

  it('parses every kind of value', () => {
    const c = loadConfig({
      PORT: '8080',
      TRUSTED_PROXIES: '10.0.0.1, 192.168.0.0/16',
      CLICKHOUSE_URL: 'https://ch.example.com:8443',
      INGEST_FSYNC: 'always',
      ROOT_API_KEY: 'a-long-enough-root-key',
    });
    assert.equal(c.port, 8080);
    assert.deepEqual(c.trustedProxies, ['10.0.0.1', '192.168.0.0/16']);
    assert.equal(c.clickhouse.url, 'https://ch.example.com:8443');
    assert.equal(c.ingest.fsync, 'always');
    assert.equal(c.rootApiKey, 'a-long-enough-root-key');
  });

  it('fails at boot listing every bad variable with what is wrong', () => {
    assert.throws(
      () =>
        loadConfig({
          PORT: 'eighty',
          RETENTION_DAYS: '0',
          INGEST_FSYNC: 'sometimes',
          CLICKHOUSE_URL: 'ftp://x',
          CLICKHOUSE_DATABASE: 'x; DROP',
          ROOT_API_KEY: 'short',
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const text = err.problems.join('\n');
        for (const name of ['PORT', 'RETENTION_DAYS', 'INGEST_FSYNC', 'CLICKHOUSE_URL', 'CLICKHOUSE_DATABASE', 'ROOT_API_KEY']) {
          assert.match(text, new RegExp(`^${name} `, 'm'), name);
        }
        assert.equal(err.problems.length, 6);
        return true;
      },
    );
  });

  it('refuses a retention whose TTL would pass the end of DateTime (2106) and wrap into the past', () => {
    assert.equal(loadConfig({ RETENTION_DAYS: '10000' }).retentionDays, 10_000);
    assert.throws(() => loadConfig({ RETENTION_DAYS: '36500' }), /RETENTION_DAYS/);
  });

  it('refuses a split deployment without the shared engines it needs', () => {
    assert.throws(() => loadConfig({ ROLE: 'api' }), /ROLE=api needs NATS_URL/);
    assert.throws(() => loadConfig({ ROLE: 'worker', NATS_URL: 'nats://n:4222' }), /ROLE=worker needs REDIS_URL/);
    assert.throws(
      () => loadConfig({ ROLE: 'worker', NATS_URL: 'nats://n:4222', REDIS_URL: 'redis://r:6379' }),
      /ROLE=worker needs CLICKHOUSE_URL/,
    );
    const ok = loadConfig({ ROLE: 'api', NATS_URL: 'nats://n:4222', REDIS_URL: 'redis://r:6379', CLICKHOUSE_URL: 'http://ch:8123' });
    assert.equal(ok.role, 'api');
    assert.throws(() => loadConfig({ REDIS_URL: 'http://r' }), /REDIS_URL must be a redis or rediss URL/);
  });

  it("needs an account and a NATS URL to consume Fechatter's stream, and takes NATS_URL for it when it is the only one", () => {
    assert.throws(() => loadConfig({ FECHATTER_NATS_ENABLED: 'true', FECHATTER_ACCOUNT_ID: 'a' }), /FECHATTER_NATS_ENABLED needs FECHATTER_NATS_URL or NATS_URL/);
    assert.throws(() => loadConfig({ FECHATTER_NATS_ENABLED: 'true', NATS_URL: 'nats://n:4222' }), /needs FECHATTER_ACCOUNT_ID/);
    const shared = loadConfig({ FECHATTER_NATS_ENABLED: 'true', FECHATTER_ACCOUNT_ID: 'a', NATS_URL: 'nats://n:4222' });
    assert.equal(shared.fechatter.natsUrl, 'nats://n:4222');
    const own = loadConfig({ FECHATTER_NATS_ENABLED: 'true', FECHATTER_ACCOUNT_ID: 'a', FECHATTER_NATS_URL: 'nats://f:4222' });
    assert.deepEqual([own.fechatter.natsUrl, own.nats.url], ['nats://f:4222', undefined], 'the ingest log stays local');
    assert.equal(own.fechatter.subjects, 'fechatter.analytics.>');
    assert.throws(() => loadConfig({ FECHATTER_NATS_SUBJECTS: 'fechatter.*.x y' }), /FECHATTER_NATS_SUBJECTS must be a dot-separated NATS subject/);
  });

  it('is documented: .env.example and the README list every setting with its default', () => {
    const example = readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8');
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const doc of settingDocs()) {
      const line = new RegExp(`^#?\\s*${doc.env}=${(doc.default ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm');
      assert.match(example, line, `.env.example has ${doc.env}=${doc.default ?? ''}`);
      assert.ok(readme.includes(`\`${doc.env}\``), `README documents ${doc.env}`);
    }
    const listed = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    assert.deepEqual(listed.filter((n) => !settingNames().includes(n!)), [], '.env.example has no unknown settings');
  });
});
