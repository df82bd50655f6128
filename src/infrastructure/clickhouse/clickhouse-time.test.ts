import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toClickHouseTime } from './clickhouse-time.js';

const viaIso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

describe('toClickHouseTime', () => {
  it('formats like the ISO text whatever order times come in (cached seconds never leak)', () => {
    const now = Date.UTC(2026, 11, 2, 10, 59, 59, 998);
    const times = [now, now - 3_600_000, now + 1, now + 2, now - 3_600_000 + 7, 0, 5, 999, 1000, now + 1001, now - 86_400_000 * 400];
    for (let i = 0; i < 200; i++) times.push(now + Math.floor(Math.sin(i) * 5_000), now - 3_600_000 + i * 37);
    for (const ms of times) assert.equal(toClickHouseTime(ms), viaIso(ms), String(ms));
  });
});
