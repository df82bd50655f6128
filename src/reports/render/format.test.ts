import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatCount,
  formatDate,
  formatDateTime,
  formatNumber,
  formatPercent,
  formatSeconds,
  formatValue,
  generatedText,
  headerWithZone,
  isoWithOffset,
  periodText,
  wallClockMs,
  zoneOffsetMs,
} from './format.js';

describe('report value formats', () => {
  it('formats numbers by unit', () => {
    assert.equal(formatCount(1_234_567), '1,234,567');
    assert.equal(formatCount(-0), '0');
    assert.equal(formatNumber(27.3076), '27.31');
    assert.equal(formatNumber(-12.5), '-12.5');
    assert.equal(formatNumber(-0.001), '0');
    assert.equal(formatPercent(45.2), '45.2 %');
    assert.equal(formatPercent(100), '100 %');
    assert.equal(formatPercent(0.003), '0.003 %');
    assert.equal(formatPercent(0), '0 %');
  });

  it('reads durations as at most two units', () => {
    assert.equal(formatSeconds(0.8), '0.8s');
    assert.equal(formatSeconds(12.5), '13s');
    assert.equal(formatSeconds(45), '45s');
    assert.equal(formatSeconds(245), '4m 05s');
    assert.equal(formatSeconds(3725), '1h 02m');
    assert.equal(formatSeconds(2 * 86400 + 3 * 3600), '2d 03h');
    assert.equal(formatSeconds(-90), '-1m 30s');
  });

  it('shows instants as wall time in the zone, across a DST change', () => {
    const winter = Date.UTC(2026, 10, 30, 13, 5); // 14:05 in Berlin (UTC+1)
    const summer = Date.UTC(2026, 6, 1, 22, 30, 15, 250); // 00:30:15.250 on 2 July in Berlin (UTC+2)
    assert.equal(formatDateTime(winter, 'Europe/Berlin'), '2026-11-30 14:05');
    assert.equal(formatDate(summer, 'Europe/Berlin'), '2026-07-02');
    assert.equal(zoneOffsetMs(summer, 'Europe/Berlin'), 2 * 3_600_000);
    assert.equal(isoWithOffset(winter, 'Europe/Berlin'), '2026-11-30T14:05:00+01:00');
    assert.equal(isoWithOffset(summer, 'Europe/Berlin'), '2026-07-02T00:30:15.250+02:00');
    assert.equal(isoWithOffset(winter, 'America/St_Johns'), '2026-11-30T09:35:00-03:30');
    assert.equal(isoWithOffset(winter, 'UTC'), '2026-11-30T13:05:00+00:00');
    assert.equal(new Date(wallClockMs(winter, 'Asia/Tokyo')).toISOString(), '2026-11-30T22:05:00.000Z');
  });

  it('formats cells and report lines the same way for every renderer', () => {
    const zone = 'Europe/Berlin';
    assert.equal(formatValue(null, 'count', zone), '–');
    assert.equal(formatValue('=1+2', 'text', zone), '=1+2');
    assert.equal(formatValue(245, 'seconds', zone), '4m 05s');
    assert.equal(formatValue(Date.UTC(2026, 9, 31, 23), 'date', zone), '2026-11-01');
    assert.equal(periodText({ from: 0, to: 1, label: '2026-11-01 – 2026-11-30', inProgress: true }), '2026-11-01 – 2026-11-30 (in progress)');
    assert.equal(periodText({ from: 0, to: 1, label: '2026-10', inProgress: false }), '2026-10');
    assert.equal(generatedText({ generatedAt: Date.UTC(2026, 10, 30, 13, 5), timezone: zone }), 'Generated 2026-11-30 14:05 (Europe/Berlin)');
    assert.equal(headerWithZone('Day', 'date', zone), 'Day (Europe/Berlin)');
    assert.equal(headerWithZone('Events', 'count', zone), 'Events');
  });
});
