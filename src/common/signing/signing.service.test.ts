import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigModule } from '../../config/config.module.js';
import { loadConfig } from '../../config/config.schema.js';
import { SigningModule } from './signing.module.js';
import { SigningService } from './signing.service.js';

const T0 = Date.UTC(2026, 10, 20, 8, 0, 0);

function service(env: Record<string, string> = {}, clock: { now: number } = { now: T0 }) {
  const dataDir = env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'signing-'));
  const s = new SigningService(loadConfig({ DATA_DIR: dataDir, ...env }), () => clock.now);
  s.onModuleInit();
  return { s, dataDir, clock };
}

/** Replaces the payload part of a token, keeping its MAC. */
function withPayload(token: string, payload: object): string {
  return `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${token.split('.')[1]}`;
}

describe('SigningService', () => {
  const secret = { SIGNING_SECRET: 'a-long-enough-signing-secret' };

  it('round-trips a payload with its expiry in a compact URL-safe token', () => {
    const { s } = service(secret);
    const token = s.sign({ purpose: 'report-download', runId: 'r-42', file: 'weekly é.pdf' }, 3600);
    assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    assert.equal(encodeURIComponent(token), token);
    assert.deepEqual(s.verify(token), { purpose: 'report-download', runId: 'r-42', file: 'weekly é.pdf', exp: T0 / 1000 + 3600 });
  });

  it('accepts a token until its expiry and refuses it from then on', () => {
    const { s, clock } = service(secret);
    const token = s.sign({ a: 1 }, 60);
    clock.now = T0 + 59_999;
    assert.deepEqual(s.verify(token), { a: 1, exp: T0 / 1000 + 60 });
    clock.now = T0 + 60_000;
    assert.equal(s.verify(token), null);
    clock.now = T0 + 86_400_000;
    assert.equal(s.verify(token), null);
  });

  it('rounds a fractional clock up, never giving less than the TTL', () => {
    const { s, clock } = service(secret, { now: T0 + 400 });
    const token = s.sign({}, 1);
    clock.now = T0 + 1_399;
    assert.notEqual(s.verify(token), null);
  });

  it('refuses a changed payload, a changed MAC, and malformed tokens', () => {
    const { s } = service(secret);
    const token = s.sign({ runId: 'r-42' }, 3600);
    const [body, mac] = token.split('.') as [string, string];
    assert.equal(s.verify(withPayload(token, { runId: 'r-43', exp: T0 / 1000 + 3600 })), null);
    assert.equal(s.verify(withPayload(token, { runId: 'r-42', exp: T0 / 1000 + 999_999 })), null, 'a longer life');
    const flipped = mac[0] === 'A' ? `B${mac.slice(1)}` : `A${mac.slice(1)}`;
    assert.equal(s.verify(`${body}.${flipped}`), null);
    // The last character of 43 base64url ones carries 2 unused bits: another character with the same bytes is still refused.
    const last = mac.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    assert.deepEqual(Buffer.from(`${mac.slice(0, -1)}${sibling}`, 'base64url'), Buffer.from(mac, 'base64url'));
    assert.equal(s.verify(`${body}.${mac.slice(0, -1)}${sibling}`), null);
    for (const bad of ['', '.', body, `${body}.`, `.${mac}`, `${body}.${mac}.x`, `${body}=.${mac}`, `${body}.${mac}=`, ` ${token}`]) {
      assert.equal(s.verify(bad), null, JSON.stringify(bad));
    }
    assert.equal(s.verify(undefined as unknown as string), null);
  });

  it('refuses a token signed with another key', () => {
    const a = service(secret).s;
    const b = service({ SIGNING_SECRET: 'another-long-enough-secret' }).s;
    const generated = service().s;
    const token = a.sign({ x: 1 }, 60);
    assert.equal(b.verify(token), null);
    assert.equal(generated.verify(token), null);
    assert.equal(a.verify(b.sign({ x: 1 }, 60)), null);
  });

  it('refuses to sign a payload that sets its own exp, a non-object or a bad TTL', () => {
    const { s } = service(secret);
    assert.throws(() => s.sign({ exp: 1 }, 60), /exp/);
    assert.throws(() => s.sign([] as object, 60), /object/);
    for (const ttl of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => s.sign({}, ttl), RangeError);
  });

  it('without SIGNING_SECRET, generates a key once into DATA_DIR/signing-key (mode 0600) and keeps using it', () => {
    const first = service();
    const file = join(first.dataDir, 'signing-key');
    const key = readFileSync(file, 'utf8');
    assert.match(key, /^[A-Za-z0-9_-]{43}\n$/);
    if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600);
    const token = first.s.sign({ x: 1 }, 60);

    const restarted = service({ DATA_DIR: first.dataDir }).s;
    assert.equal(readFileSync(file, 'utf8'), key, 'the key is not replaced');
    assert.deepEqual(restarted.verify(token), { x: 1, exp: T0 / 1000 + 60 });

    // The file's content works as SIGNING_SECRET, so replicas can be given the same key.
    const elsewhere = service({ SIGNING_SECRET: key.trim() }).s;
    assert.deepEqual(elsewhere.verify(token), { x: 1, exp: T0 / 1000 + 60 });
  });

  it('SIGNING_SECRET wins over a key file, and no file is written', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'signing-'));
    service({ DATA_DIR: dataDir, ...secret });
    assert.throws(() => statSync(join(dataDir, 'signing-key')), /ENOENT/);
  });

  it('refuses to start on an empty or truncated key file instead of signing with it', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'signing-'));
    writeFileSync(join(dataDir, 'signing-key'), '\n');
    assert.throws(() => service({ DATA_DIR: dataDir }), /signing-key holds no usable signing key/);
  });

  it('is provided by SigningModule, with the key ready at boot and the real clock', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'signing-'));
    @Module({ imports: [ConfigModule.forRoot(loadConfig({ DATA_DIR: dataDir })), SigningModule] })
    class Root {}
    const app = await NestFactory.createApplicationContext(Root, { logger: false });
    try {
      assert.match(readFileSync(join(dataDir, 'signing-key'), 'utf8'), /^[A-Za-z0-9_-]{43}\n$/);
      const s = app.get(SigningService);
      const before = Date.now();
      const payload = s.verify<{ n: number }>(s.sign({ n: 1 }, 5));
      assert.ok(payload);
      assert.equal(payload.n, 1);
      assert.ok(payload.exp * 1000 >= before + 5000 && payload.exp * 1000 <= Date.now() + 6000);
    } finally {
      await app.close();
    }
  });
});
