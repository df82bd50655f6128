import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.schema.js';
import { toClickHouseTime } from '../src/infrastructure/clickhouse/clickhouse-time.js';
import { rollupSelect } from '../src/infrastructure/clickhouse/schema/event-rollup.js';
import { ChdbEventsStore } from '../src/infrastructure/clickhouse/chdb.events-store.js';
import type { EventsStore } from '../src/infrastructure/clickhouse/events-store.port.js';
import { migrate } from '../src/infrastructure/clickhouse/migrator.js';
import { migrateSchema } from '../src/infrastructure/clickhouse/schema/migrate-schema.js';
import { EVENTS_MIGRATIONS } from '../src/infrastructure/clickhouse/schema/migrations/index.js';
import { retentionTtls } from '../src/infrastructure/clickhouse/schema/retention.js';
import {
  CURRENT_OBJECTS,
  EVENTS_TABLE,
  MIGRATIONS_TABLE,
  ROLLUP_VIEW,
  METRIC_SPANS_TABLE,
  SESSION_DELTAS_TABLE,
  SESSION_LATEST_TABLE,
  SESSION_ROLLUP_VIEW,
  SESSIONS_TABLE,
} from '../src/infrastructure/clickhouse/schema/tables.js';
import { SessionAssigner } from '../src/sessions/session-assigner.js';
import { SUMMARY_FIELDS } from '../src/sessions/session-summaries.js';
import { SessionSummarizer, sessionsOf } from '../src/sessions/session-summarizer.js';
import { FIRST_EVENT_FIELDS } from '../src/sessions/session-tables.js';

/**
 * The checksum of each shipped migration (its version, name and statements). A shipped migration
 * is never edited: a store that ran it keeps what it made, so an edit reaches new stores only.
 * When this test fails for one of these, undo the edit and write the change as a new migration;
 * a new migration adds its line here.
 */
const SHIPPED: Record<number, string> = {
  1: 'a052a2a56a7522eee842fe089d1381e7abd708d7b7455b6d8c240f694b733d81',
  2: '75f21ec3fe9a76becb3ab21a699e4f4a0529cb7e39ccc41808ca3ef1f8fb1c9a',
  3: 'd872611f81cc2a2e881977810689c84dc6b716e963de99a271f7cf7fad644e97',
  4: '904623c48f0e1c4b0f429e01914e072bad466ef41d98aa117689a3d80dc3740a',
  5: '27c1c4415df994c8193480de4e8dfa71fb73d5fbf2cecb68f14312174c1927cc',
  6: 'c76e5701c3460aae3fddb91642dab9607cfe79488299a38df8cfd7bf5e2079cd',
  7: '1bf3d7437bf751cc9bb777d69534e00979e576a0b7efb88fc26b0190cc66a689',
  8: '869f1c8a617983b79bf73188afb71bb555c7a0815c93531aec284f8e4579dbcb',
  9: 'db34a6d76d6b83794767f1cea86d79a57e884ab6d310ef96eadc1782c75edd76',
  10: 'c7dccca55f382939ae6925ea005392d3892cb40559ace6efe3189bb7d1fd3097',
  11: 'ec46542b77542b80990535e0907e3c84eea6924da556bddad826f1f6235e0ad3',
  12: 'cbcea87f9c613b13af724bcca3f23cd855635b8a7b59fd7e7480f9dae88c81fe',
  13: '3646eac814f90e2df62ef302972c051b541d17180f69ccfa0ab9d2b8738bcf6d',
  14: 'cd914d1cf58f204f616d9d98480808f3ab782d6637af15e37caf02d77ff77095',
};

const RETENTION = 90;
const MIN = 60_000;
const DAY = 86_400_000;
/** Recent whole minutes, so nothing is past the retention. */
const T0 = Math.floor((Date.now() - 3 * DAY) / MIN) * MIN;

/** Every table and view with its CREATE statement, whitespace normalised. */
async function schemaOf(store: EventsStore): Promise<Map<string, string>> {
  const rows = await store.query<{ name: string; create_table_query: string }>(
    `SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase() ORDER BY name`,
  );
  return new Map(rows.map((r) => [r.name, r.create_table_query.replace(/\s+/g, ' ').trim()]));
}

/** The migrations recorded, without the time each was applied. */
const recorded = (store: EventsStore) => store.query(`SELECT version, name FROM ${MIGRATIONS_TABLE} ORDER BY version`);

let seq = 0;
/**
 * A batch of events as the pipeline stores them at schema `version`: the columns of that
 * version (web context from 3), sessions given (the assigner's own state arrives with 11), a bot.
 */
function batch(version: number): object[] {
  const rows: object[] = [];
  for (let d = 0; d < 6; d++) {
    for (let e = 0; e < 3; e++) {
      seq++;
      const at = T0 + version * 60 * MIN + d * 5 * MIN + e * MIN;
      const row: Record<string, unknown> = {
        account_id: 'acc',
        event_id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
        event_type: 'track',
        event_name: e === 1 ? 'click' : 'screen_view',
        timestamp: toClickHouseTime(at),
        received_at: toClickHouseTime(at),
        session_id: version >= 11 && d % 2 === 0 ? '' : `s${version}-${d}`,
        user_id: d % 3 === 0 ? `user${d}` : '',
        anonymous_id: `dev${d}`,
        properties: '{}',
        browser: 'Firefox',
        device_type: 'desktop',
        search_text: 'hello',
      };
      if (version >= 3) {
        Object.assign(row, {
          origin: 'https://shop.test',
          path: `/p${(d + e) % 3}`,
          title: `Page ${(d + e) % 3}`,
          referrer_name: d % 2 ? 'Google' : '',
          referrer_type: d % 2 ? 'search' : 'direct',
          utm_source: d === 1 ? 'newsletter' : '',
          country: ['DE', 'US', 'FR'][d % 3],
          is_bot: d === 5 ? 1 : 0,
        });
      }
      rows.push(row);
    }
  }
  return rows;
}
const lines = (rows: object[]) => Buffer.from(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));

/** Stores a batch as the writer of that schema version did: sessions assigned (11+), then summarized (5+). */
async function ingest(store: EventsStore, version: number): Promise<void> {
  let rows: Buffer = lines(batch(version));
  let commit = async () => {};
  if (version >= 11) {
    const assigned = await new SessionAssigner(store, loadConfig({})).assign(rows);
    rows = assigned.rows;
    commit = assigned.commit;
  }
  const token = `batch-${version}`;
  await store.insertJsonEachRow(EVENTS_TABLE, rows, { dedupToken: token });
  await commit();
  if (version >= 5) await new SessionSummarizer(store).summarize(sessionsOf(rows), token);
}

describe('the events schema migrations', () => {
  const dirs: string[] = [];
  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'schema-migrations-'));
    dirs.push(dir);
    return dir;
  };
  /** The store built one migration at a time; the later tests go on with it. */
  let stepwise: ChdbEventsStore | undefined;
  /** The schema of a store built with every migration at once. */
  let fresh: Map<string, string>;

  after(async () => {
    await stepwise?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('are the shipped text, unedited', () => {
    assert.deepEqual(
      EVENTS_MIGRATIONS.map((m) => m.version),
      EVENTS_MIGRATIONS.map((_, i) => i + 1),
      'numbered 1, 2, 3, … with none left out',
    );
    for (const m of EVENTS_MIGRATIONS) {
      const sum = createHash('sha256').update(JSON.stringify([m.version, m.name, m.statements])).digest('hex');
      assert.ok(SHIPPED[m.version], `migration ${m.version} is new: add its checksum to SHIPPED (${sum})`);
      assert.equal(
        sum,
        SHIPPED[m.version],
        `migration ${m.version} was edited after it shipped; stores that ran it keep the old text. Undo the edit and write the change as a new migration`,
      );
    }
  });

  it('are literal SQL, one file per version, with {retentionDays} their only parameter', () => {
    const folder = fileURLToPath(new URL('../src/infrastructure/clickhouse/schema/migrations/', import.meta.url));
    const files = readdirSync(folder).filter((f) => /^\d{4}-.*\.js$/.test(f)).sort();
    assert.deepEqual(
      files.map((f) => Number(f.slice(0, 4))),
      EVENTS_MIGRATIONS.map((m) => m.version),
    );
    for (const file of files) {
      const code = readFileSync(join(folder, file), 'utf8');
      assert.doesNotMatch(code, /\bimport\b/, `${file} imports nothing: helpers that change would change it`);
      assert.doesNotMatch(code, /\$\{/, `${file} interpolates nothing`);
    }
    for (const m of EVENTS_MIGRATIONS) {
      for (const statement of m.statements) {
        const names = [...statement.matchAll(/\{([A-Za-z_]\w*)\}/g)].map((x) => x[1]);
        assert.ok(names.every((n) => n === 'retentionDays'), `migration ${m.version}: ${names}`);
      }
    }
  });

  it('build the same schema from nothing as one by one with events stored in between', async () => {
    const all = await ChdbEventsStore.open(freshDir(), 2, 60_000);
    let freshRecord: unknown[];
    try {
      assert.deepEqual((await migrateSchema(all, { retentionDays: RETENTION })).applied, EVENTS_MIGRATIONS.map((m) => m.version));
      fresh = await schemaOf(all);
      freshRecord = await recorded(all);
    } finally {
      // One chDB data directory per process at a time: this one is closed (and drained) first.
      await all.close();
    }

    stepwise = await ChdbEventsStore.open(freshDir(), 2, 60_000);
    for (const m of EVENTS_MIGRATIONS) {
      assert.deepEqual(await migrate(stepwise, EVENTS_MIGRATIONS.slice(0, m.version), { retentionDays: RETENTION }), [m.version]);
      await ingest(stepwise, m.version);
    }
    assert.deepEqual((await migrateSchema(stepwise, { retentionDays: RETENTION })).applied, []);
    // The events went through every view (the summaries from 5 on): a sanity check of the data.
    const [counts] = await stepwise.query<Record<string, number>>(
      `SELECT (SELECT count() FROM events) AS events, (SELECT sum(events) FROM events_by_minute) AS rolled,
         (SELECT countIf(is_bot = 0) FROM events) AS humans, (SELECT count() FROM step_events) AS steps,
         (SELECT uniqExact(session_id) FROM session_latest) AS summarized, (SELECT count() FROM device_sessions_by_day) AS state`,
    );
    assert.equal(Number(counts!.events), EVENTS_MIGRATIONS.length * 18);
    assert.equal(Number(counts!.rolled), Number(counts!.humans));
    assert.equal(Number(counts!.steps), Number(counts!.humans));
    assert.ok(Number(counts!.summarized) > 0 && Number(counts!.state) > 0);

    const stepped = await schemaOf(stepwise);
    assert.deepEqual([...stepped.keys()], [...fresh.keys()], 'the same tables and views');
    for (const [name, create] of fresh) assert.equal(stepped.get(name), create, name);
    assert.deepEqual(await recorded(stepwise), freshRecord!);
    // And exactly the objects tables.ts names.
    assert.deepEqual([...fresh.keys()].sort(), [...CURRENT_OBJECTS].sort());
  });

  it("keeps the writer's SQL and the views' frozen text in agreement", async () => {
    const store = stepwise!;
    const asSelect = async (name: string) =>
      (await store.query<{ as_select: string }>(`SELECT as_select FROM system.tables WHERE database = currentDatabase() AND name = {name:String}`, { name }))[0]!
        .as_select;
    // The metric queries' partial minutes are the rollup view's rows: the same SELECT, as ClickHouse reads it.
    await store.command(`CREATE VIEW schema_check_rollup AS ${rollupSelect()}`);
    try {
      assert.equal(await asSelect('schema_check_rollup'), await asSelect(ROLLUP_VIEW));
    } finally {
      await store.command('DROP VIEW schema_check_rollup');
    }
    // The summaries the writer inserts are the summary tables' columns, in order.
    const columns = async (table: string) =>
      (await store.query<{ name: string; type: string }>(
        `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {table:String} ORDER BY position`,
        { table },
      )).map((c) => [c.name, c.type]);
    assert.deepEqual(await columns(SESSION_LATEST_TABLE), SUMMARY_FIELDS);
    assert.deepEqual(await columns(SESSION_DELTAS_TABLE), [...SUMMARY_FIELDS, ['sign', 'Int8']]);
    // The sessions keep every first-event field the summaries merge, and no other.
    const firsts = (await columns(SESSIONS_TABLE)).filter(([name]) => name!.startsWith('first_'));
    assert.deepEqual(firsts, FIRST_EVENT_FIELDS.map((f) => [`first_${f}`, "AggregateFunction(argMin, String, DateTime64(3, 'UTC'))"]));
    // The session rollup's view writes every dimension the rollup queries ask for.
    const rollupView = await asSelect(SESSION_ROLLUP_VIEW);
    for (const dimension of [...FIRST_EVENT_FIELDS, 'exit']) assert.ok(rollupView.includes(`('${dimension}', `), dimension);
  });

  it('makes every TTL follow RETENTION_DAYS when it changes between boots', async () => {
    const store = stepwise!;
    const ttls = async () =>
      new Map(
        (await store.query<{ name: string; engine_full: string }>(
          `SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() AND engine_full LIKE '% TTL %' ORDER BY name`,
        )).map((t) => [t.name, t.engine_full]),
      );
    const expectRetention = async (days: number) => {
      const tables = await ttls();
      for (const [name, ttl] of Object.entries(retentionTtls(days))) assert.ok(tables.get(name)?.includes(`TTL ${ttl}`), `${name}: ${tables.get(name)}`);
      // Every table kept by a TTL follows the setting, but the metrics' merged spans and the deltas (a day of them, always).
      const others = [...tables].filter(([name]) => !(name in retentionTtls(days)));
      assert.deepEqual(others.map(([name, engine]) => [name, /TTL (.*?) SETTINGS/.exec(engine)?.[1]]), [
        [METRIC_SPANS_TABLE, 'toDateTime(computed_at) + toIntervalDay(1)'],
        [SESSION_DELTAS_TABLE, 'toDateTime(version) + toIntervalDay(1)'],
      ]);
    };
    const everyTable = Object.keys(retentionTtls(RETENTION)).sort();

    await expectRetention(RETENTION);
    assert.deepEqual(await migrateSchema(store, { retentionDays: RETENTION }), { applied: [], retention: [] });

    // The next boot with RETENTION_DAYS=30.
    const changed = await migrateSchema(store, { retentionDays: 30 });
    assert.deepEqual({ ...changed, retention: changed.retention.sort() }, { applied: [], retention: everyTable });
    await expectRetention(30);
    for (const [name, engine] of await ttls()) assert.ok(!engine.includes(`toIntervalDay(${RETENTION})`), name);
    // As a store created with 30 days would be.
    const thirty = new Map([...fresh].map(([name, create]) => [name, create.replaceAll(`toIntervalDay(${RETENTION})`, 'toIntervalDay(30)')]));
    assert.deepEqual(await schemaOf(store), thirty);
    assert.deepEqual((await migrateSchema(store, { retentionDays: 30 })).retention, [], 'nothing more at the boot after');

    // And back.
    assert.deepEqual((await migrateSchema(store, { retentionDays: RETENTION })).retention.sort(), everyTable);
    await expectRetention(RETENTION);
    assert.deepEqual(await schemaOf(store), fresh);
  });
});
