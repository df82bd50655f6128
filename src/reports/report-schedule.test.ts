import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSchedule, lastRunAtOrBefore, nextRunAfter, upcoming } from './report-schedule.js';

const iso = (ms: number) => new Date(ms).toISOString();
const times = (cron: string, timezone: string, after: string, n = 3) => upcoming({ cron, timezone }, Date.parse(after), n).map(iso);

describe('report schedules', () => {
  it('keeps 09:00 in Berlin at 09:00 local across both clock changes', () => {
    // Spring: 2026-03-29 (+01:00 → +02:00).
    assert.deepEqual(times('0 9 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z'), ['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z', '2026-03-30T07:00:00.000Z']);
    // Autumn: 2026-10-25 (+02:00 → +01:00).
    assert.deepEqual(times('0 9 * * *', 'Europe/Berlin', '2026-10-23T12:00:00Z'), ['2026-10-24T07:00:00.000Z', '2026-10-25T08:00:00.000Z', '2026-10-26T08:00:00.000Z']);
  });

  it('keeps 08:00 in New York at 08:00 local across both clock changes', () => {
    assert.deepEqual(times('0 8 * * *', 'America/New_York', '2026-03-07T20:00:00Z'), ['2026-03-08T12:00:00.000Z', '2026-03-09T12:00:00.000Z', '2026-03-10T12:00:00.000Z']);
    assert.deepEqual(times('0 8 * * *', 'America/New_York', '2026-10-31T20:00:00Z'), ['2026-11-01T13:00:00.000Z', '2026-11-02T13:00:00.000Z', '2026-11-03T13:00:00.000Z']);
  });

  it('runs Mondays at 09:00 in a +05:30 zone', () => {
    assert.deepEqual(times('0 9 * * 1', 'Asia/Kolkata', '2026-11-20T00:00:00Z', 2), ['2026-11-23T03:30:00.000Z', '2026-11-30T03:30:00.000Z']);
  });

  it('runs a time that does not exist one hour later, and a time that occurs twice once', () => {
    // 02:30 does not exist on 2026-03-29 in Berlin: it runs at 03:30 (+02:00).
    assert.deepEqual(times('30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z', 2), ['2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
    // 02:30 occurs twice on 2026-10-25: once, at the first (+02:00).
    assert.deepEqual(times('30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z', 2), ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  it('finds the last time due and the next one', () => {
    const s = { cron: '0 9 * * *', timezone: 'Europe/Berlin' };
    assert.equal(iso(lastRunAtOrBefore(s, Date.parse('2026-11-25T08:00:00Z'))), '2026-11-25T08:00:00.000Z');
    assert.equal(iso(lastRunAtOrBefore(s, Date.parse('2026-11-25T07:59:59Z'))), '2026-11-24T08:00:00.000Z');
    assert.equal(iso(nextRunAfter(s, Date.parse('2026-11-25T08:00:00Z'))), '2026-11-26T08:00:00.000Z');
  });

  it('refuses bad schedules naming the field', () => {
    assert.deepEqual(checkSchedule({ cron: '0 9 * *', timezone: 'Europe/Berlin' }, 'schedule').problems.map((p) => p.field), ['schedule.cron']);
    assert.deepEqual(checkSchedule({ cron: '0 25 * * *', timezone: 'Europe/Berlin' }, 'schedule').problems.map((p) => p.field), ['schedule.cron']);
    assert.deepEqual(checkSchedule({ cron: '0 9 * * *', timezone: 'Mars/Olympus' }, 'schedule').problems.map((p) => p.field), ['schedule.timezone']);
    assert.deepEqual(checkSchedule('daily', 'schedule').problems.map((p) => p.field), ['schedule']);
    assert.deepEqual(checkSchedule({ cron: '0 9 * * 1', timezone: 'europe/berlin' }, 'schedule').schedule, { cron: '0 9 * * 1', timezone: 'Europe/Berlin' });
  });
});
