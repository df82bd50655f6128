import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkDateRange, resolvePeriod } from './report-period.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('report periods', () => {
  // Wednesday 2026-11-25, 10:00 in Berlin (09:00 UTC, +01:00).
  const asOf = at('2026-11-25T09:00:00Z');

  it('resolves relative periods to whole local days in the zone', () => {
    const p = (r: Parameters<typeof resolvePeriod>[0]) => {
      const x = resolvePeriod(r, 'Europe/Berlin', asOf);
      return [iso(x.from), iso(x.to), x.label, x.inProgress];
    };
    assert.deepEqual(p('yesterday'), ['2026-11-23T23:00:00.000Z', '2026-11-24T23:00:00.000Z', '2026-11-24', false]);
    assert.deepEqual(p('last_7_days'), ['2026-11-17T23:00:00.000Z', '2026-11-24T23:00:00.000Z', '2026-11-18 – 2026-11-24', false]);
    // Last week is Monday to Sunday.
    assert.deepEqual(p('last_week'), ['2026-11-15T23:00:00.000Z', '2026-11-22T23:00:00.000Z', '2026-11-16 – 2026-11-22', false]);
    assert.deepEqual(p('last_month'), ['2026-09-30T22:00:00.000Z', '2026-10-31T23:00:00.000Z', '2026-10-01 – 2026-10-31', false]);
    // The current month holds today, which is not over: in progress.
    assert.deepEqual(p('month_to_date'), ['2026-10-31T23:00:00.000Z', '2026-11-25T23:00:00.000Z', '2026-11-01 – 2026-11-25', true]);
  });

  it('takes absolute local dates, the end inclusive, and marks a range that reaches today in progress', () => {
    const november = resolvePeriod({ start: '2026-11-01', end: '2026-11-30' }, 'America/New_York', asOf);
    assert.deepEqual([iso(november.from), iso(november.to), november.inProgress], ['2026-11-01T04:00:00.000Z', '2026-12-01T05:00:00.000Z', true]);
    const october = resolvePeriod({ start: '2026-10-01', end: '2026-10-31' }, 'America/New_York', asOf);
    assert.equal(october.inProgress, false);
    assert.equal(october.interval, 'day');
    // A day of 25 hours (Berlin's autumn change) is still one day, with hourly buckets.
    const autumn = resolvePeriod({ start: '2026-10-25', end: '2026-10-25' }, 'Europe/Berlin', asOf);
    assert.equal(autumn.to - autumn.from, 25 * 3_600_000);
    assert.equal(autumn.interval, 'hour');
  });

  it('resolves a Monday as of a late Monday run against its own time', () => {
    // A run scheduled Monday 2026-11-23 09:00 Kolkata (+05:30), generated late: last_week is still the week before it.
    const p = resolvePeriod('last_week', 'Asia/Kolkata', at('2026-11-23T03:30:00Z'));
    assert.equal(p.label, '2026-11-16 – 2026-11-22');
    assert.equal(iso(p.from), '2026-11-15T18:30:00.000Z');
  });

  it('names the part of a bad date range that is wrong', () => {
    assert.deepEqual(checkDateRange('last_year', 'parameters.dateRange')[0]!.field, 'parameters.dateRange');
    assert.deepEqual(checkDateRange({ start: '2026-02-30', end: '2026-03-01' }, 'd').map((p) => p.field), ['d.start']);
    assert.deepEqual(checkDateRange({ start: '2026-03-02', end: '2026-03-01' }, 'd').map((p) => p.field), ['d.start']);
    assert.deepEqual(checkDateRange({ start: '2026-01-01', end: '2026-01-02', tz: 'x' }, 'd').map((p) => p.field), ['d.tz']);
    assert.deepEqual(checkDateRange({ start: '2024-01-01', end: '2026-01-01' }, 'd').map((p) => p.field), ['d.end']);
    assert.deepEqual(checkDateRange({ start: '2024-01-01', end: '2024-01-31' }, 'd'), []);
  });
});
