import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NedbDocumentStore } from '../infrastructure/documents/nedb.document-store.js';
import { CookielessDeviceService } from './cookieless-device.service.js';

describe('cookieless device ids', () => {
  const store = new NedbDocumentStore(mkdtempSync(join(tmpdir(), 'cookieless-')));
  after(() => store.close());
  const day = Date.parse('2026-11-10T00:00:00Z');

  it('gives one device the same id all day, and another device or account another', async () => {
    const devices = new CookielessDeviceService(store);
    const morning = await devices.hasherFor(day + 60_000);
    const evening = await devices.hasherFor(day + 23 * 3_600_000);
    const id = morning('acme', '203.0.113.7', 'Mozilla/5.0');
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(evening('acme', '203.0.113.7', 'Mozilla/5.0'), id);
    assert.notEqual(morning('acme', '203.0.113.8', 'Mozilla/5.0'), id);
    assert.notEqual(morning('acme', '203.0.113.7', 'curl/8'), id);
    assert.notEqual(morning('other', '203.0.113.7', 'Mozilla/5.0'), id);
  });

  it('shares the day salt through the documents store (another replica hashes alike), and changes it daily', async () => {
    const one = await new CookielessDeviceService(store).hasherFor(day);
    const two = await new CookielessDeviceService(store).hasherFor(day + 1000);
    assert.equal(two('acme', '203.0.113.7', 'ua'), one('acme', '203.0.113.7', 'ua'));
    const tomorrow = await new CookielessDeviceService(store).hasherFor(day + 86_400_000);
    assert.notEqual(tomorrow('acme', '203.0.113.7', 'ua'), one('acme', '203.0.113.7', 'ua'));
  });
});
