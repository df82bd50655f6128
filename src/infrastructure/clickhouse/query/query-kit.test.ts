import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  accountRange,
  bindInstant,
  bucket,
  epochMs,
  inRange,
  INTERVAL_MS,
  INTERVAL_STEP,
  INTERVALS,
  lastBucket,
  ParamBag,
  USER_KEY,
  withFill,
} from './query-kit.js';

// The SQL every reader builds on, pinned: a change here changes the text of every metric and
// insights query (and their benchmarks), so it should show up in review as a diff of this file.
// What the SQL computes (buckets at local midnight, weeks on Monday, DST and +5:45 zones) is
// checked against the engine by the metrics, metrics-rollup, insights and funnel-retention tests.

describe('ParamBag', () => {
  it('hands out p0, p1, … with their ClickHouse types, keeping each value as given', () => {
    const bag = new ParamBag();
    assert.equal(bag.bind('acme', 'String'), '{p0:String}');
    assert.equal(bag.bind(1_700_000_000_123, 'Int64'), '{p1:Int64}');
    assert.equal(bag.bind(10, 'UInt32'), '{p2:UInt32}');
    assert.equal(bag.bind(0.5, 'Float64'), '{p3:Float64}');
    assert.equal(bag.bind('2026-03-29', 'Date'), '{p4:Date}');
    assert.equal(bag.bind(['a', "b'); DROP TABLE events; --"], 'Array(String)'), '{p5:Array(String)}');
    assert.equal(bag.bind([900, 1800], 'Array(UInt32)'), '{p6:Array(UInt32)}');
    assert.deepEqual(bag.params, {
      p0: 'acme',
      p1: 1_700_000_000_123,
      p2: 10,
      p3: 0.5,
      p4: '2026-03-29',
      p5: ['a', "b'); DROP TABLE events; --"],
      p6: [900, 1800],
    });
  });

  it('binds the same value twice as two parameters (each placeholder stands for one use)', () => {
    const bag = new ParamBag();
    assert.equal(`${bag.bind('x', 'String')} ${bag.bind('x', 'String')}`, '{p0:String} {p1:String}');
    assert.deepEqual(bag.params, { p0: 'x', p1: 'x' });
  });

  it('numbers each bag from p0', () => {
    new ParamBag().bind('a', 'String');
    assert.equal(new ParamBag().bind('b', 'String'), '{p0:String}');
  });
});

describe('instants', () => {
  it('binds an epoch-ms instant as a DateTime64', () => {
    const bag = new ParamBag();
    assert.equal(bindInstant(bag, 1_774_742_400_000), 'fromUnixTimestamp64Milli({p0:Int64})');
    assert.deepEqual(bag.params, { p0: 1_774_742_400_000 });
  });

  it('answers a DateTime as epoch milliseconds', () => {
    assert.equal(epochMs('bucket'), 'toUnixTimestamp(bucket) * 1000');
  });
});

describe('time buckets', () => {
  const zones = { UTC: 'UTC', 'Asia/Kathmandu': 'Asia/Kathmandu' };

  for (const [name, zone] of Object.entries(zones)) {
    it(`bucket() of each interval in ${name}: the zone is a bound parameter, the SQL the same`, () => {
      const bag = new ParamBag();
      const tz = bag.bind(zone, 'String');
      assert.deepEqual(bag.params, { p0: zone });
      const sql = Object.fromEntries(INTERVALS.map((i) => [i, bucket(i, 'timestamp', tz)]));
      assert.deepEqual(sql, {
        minute: 'toStartOfMinute(toDateTime(timestamp, {p0:String}))',
        hour: 'toStartOfHour(toDateTime(timestamp, {p0:String}))',
        day: 'toStartOfDay(toDateTime(timestamp, {p0:String}))',
        week: 'toDateTime(toMonday(toDateTime(timestamp, {p0:String})), {p0:String})',
        month: 'toDateTime(toStartOfMonth(toDateTime(timestamp, {p0:String})), {p0:String})',
      });
    });
  }

  it('lastBucket() is the bucket of the millisecond before the end', () => {
    assert.equal(
      lastBucket('day', 'fromUnixTimestamp64Milli({p1:Int64})', '{p0:String}'),
      'toStartOfDay(toDateTime(fromUnixTimestamp64Milli({p1:Int64}) - INTERVAL 1 MILLISECOND, {p0:String}))',
    );
  });

  it('steps one interval at a time', () => {
    assert.deepEqual(INTERVAL_STEP, {
      minute: 'INTERVAL 1 MINUTE',
      hour: 'INTERVAL 1 HOUR',
      day: 'INTERVAL 1 DAY',
      week: 'INTERVAL 1 WEEK',
      month: 'INTERVAL 1 MONTH',
    });
    assert.deepEqual(INTERVAL_MS, { minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000, month: 2_419_200_000 });
  });

  it('withFill() fills from the first bucket through the last one, one step apart', () => {
    const bag = new ParamBag();
    const tz = bag.bind('Europe/Paris', 'String');
    const from = bindInstant(bag, Date.UTC(2026, 2, 1));
    const to = bindInstant(bag, Date.UTC(2026, 3, 1));
    assert.equal(
      withFill('day', from, to, tz),
      'WITH FILL FROM toStartOfDay(toDateTime(fromUnixTimestamp64Milli({p1:Int64}), {p0:String}))' +
        ' TO toStartOfDay(toDateTime(fromUnixTimestamp64Milli({p2:Int64}) - INTERVAL 1 MILLISECOND, {p0:String})) + INTERVAL 1 DAY' +
        ' STEP INTERVAL 1 DAY',
    );
    assert.equal(
      withFill('week', 'f', 't', 'z'),
      'WITH FILL FROM toDateTime(toMonday(toDateTime(f, z)), z) TO toDateTime(toMonday(toDateTime(t - INTERVAL 1 MILLISECOND, z)), z) + INTERVAL 1 WEEK STEP INTERVAL 1 WEEK',
    );
    assert.equal(
      withFill('month', 'f', 't', 'z'),
      'WITH FILL FROM toDateTime(toStartOfMonth(toDateTime(f, z)), z) TO toDateTime(toStartOfMonth(toDateTime(t - INTERVAL 1 MILLISECOND, z)), z) + INTERVAL 1 MONTH STEP INTERVAL 1 MONTH',
    );
  });
});

describe('clauses', () => {
  it('inRange() is half-open: from included, to excluded', () => {
    assert.equal(inRange('start', 'a', 'b'), 'start >= a AND start < b');
  });

  it('accountRange() puts the account first, then the time range (the sort key prefix)', () => {
    const bag = new ParamBag();
    const account = bag.bind('acme', 'String');
    const clause = accountRange(account, 'timestamp', bindInstant(bag, 1000), bindInstant(bag, 2000));
    assert.equal(
      clause,
      'account_id = {p0:String} AND timestamp >= fromUnixTimestamp64Milli({p1:Int64}) AND timestamp < fromUnixTimestamp64Milli({p2:Int64})',
    );
    assert.deepEqual(bag.params, { p0: 'acme', p1: 1000, p2: 2000 });
  });

  it('counts an event as its user, else its anonymous id', () => {
    assert.equal(USER_KEY, "if(user_id != '', user_id, anonymous_id)");
  });
});
