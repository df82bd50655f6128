import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { environment } from './dotenv.js';

describe('.env', () => {
  it('reads .env of the directory beneath the environment, which wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dotenv-'));
    writeFileSync(join(dir, '.env'), '# a comment\nDATA_DIR=./from-file\nLOG_LEVEL=debug\nPORT="4000"\n');
    const result = environment({ PORT: '5000' }, dir);
    assert.equal(result.file, join(dir, '.env'));
    assert.equal(result.env.DATA_DIR, './from-file');
    assert.equal(result.env.LOG_LEVEL, 'debug');
    assert.equal(result.env.PORT, '5000', 'the environment wins');
    assert.deepEqual(result.fromFile, ['DATA_DIR', 'LOG_LEVEL']);
    assert.deepEqual(result.overridden, ['PORT']);
  });

  it('is the environment alone without a .env file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dotenv-'));
    const env = { PORT: '5000' };
    assert.deepEqual(environment(env, dir), { env, fromFile: [], overridden: [] });
  });
});
