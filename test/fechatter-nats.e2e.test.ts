import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager, type JsMsg, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { IngestPipelineService } from '../src/events/ingest-pipeline.service.js';
import { EVENTS_STORE, type EventsStore } from '../src/infrastructure/clickhouse/events-store.port.js';
import { FechatterNatsConsumer } from '../src/sources/fechatter/fechatter-nats.consumer.js';
import { FECHATTER_EVENT_NAMES } from '../src/sources/fechatter/fechatter-proto.js';
import { call, createAccount, eventually, startApp, type TestApp } from './support/app.js';
import { encodeBatch, encodeEvent, EVENT_SAMPLES } from './support/fechatter.js';
import { deleteStreams, NATS_URL, needs } from './support/services.js';

const skip = await needs('nats');

/** The subject Fechatter's services publish an event on (`fechatter.analytics.user.login`). */
const subjectOf = (prefix: string, name: string) => `${prefix}.${name.replace('_', '.')}`;

describe("Fechatter's NATS JetStream stream, consumed in embedded mode (local ingest log)", { skip }, () => {
  const id = randomUUID().slice(0, 8);
  const prefix = `t${id}.fechatter.analytics`;
  const stream = `FECHATTER_TEST_${id}`;
  const deadLetters = `FECHATTER_DL_${id}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'fechatter-nats-'));
  let accountId: string;
  let read: string;
  let nc: Awaited<ReturnType<typeof connect>>;
  let jsm: JetStreamManager;
  let app: TestApp | undefined;

  const env = () => ({
    DATA_DIR: dataDir,
    FECHATTER_NATS_ENABLED: 'true',
    FECHATTER_NATS_URL: NATS_URL,
    FECHATTER_ACCOUNT_ID: accountId,
    FECHATTER_NATS_STREAM: stream,
    FECHATTER_NATS_SUBJECTS: `${prefix}.>`,
    FECHATTER_NATS_DEAD_LETTER_STREAM: deadLetters,
  });

  async function storedRows(t: TestApp) {
    await t.app.get(IngestPipelineService).flush();
    return t.app.get<EventsStore>(EVENTS_STORE).query<{ event_id: string; event_type: string; event_name: string; properties: string; anonymous_id: string; session_id: string }>(
      `SELECT toString(event_id) AS event_id, event_type, event_name, properties, anonymous_id, session_id FROM events
       WHERE account_id = {a:String} ORDER BY timestamp`,
      { a: accountId },
    );
  }

  /** Until the consumer has handed over (and acknowledged) every message. */
  async function drained(): Promise<void> {
    await eventually(async () => {
      const info = await jsm.consumers.info(stream, 'analytics-processor');
      assert.equal(info.num_pending + info.num_ack_pending, 0, `pending ${info.num_pending}, unacknowledged ${info.num_ack_pending}`);
    }, 30_000);
  }

  before(async () => {
    const first = await startApp({ DATA_DIR: dataDir });
    const acct = await createAccount(first.url, 'fechatter-nats');
    accountId = acct.accountId;
    read = acct.read;
    await first.close();
    nc = await connect({ servers: NATS_URL });
    jsm = await jetstreamManager(nc);
  });

  after(async () => {
    await app?.close();
    await nc?.close();
    await deleteStreams([stream, deadLetters]);
  });

  it('creates the stream, stores every event type once, mapped right, and sets a garbage message aside without blocking the next', async () => {
    app = await startApp(env());
    await eventually(async () => assert.ok((await jsm.streams.info(stream)).config.subjects.includes(`${prefix}.>`)), 10_000);
    const info = await jsm.streams.info(stream);
    assert.equal(info.config.storage, 'file');
    assert.equal(info.config.max_age, 30 * 24 * 3600 * 1e9);

    const js = jetstream(nc);
    const now = Date.now();
    for (const [i, name] of FECHATTER_EVENT_NAMES.entries()) {
      // Half with a client timestamp (identified by their bytes), half without (by their stream position).
      const context = { client_id: `nats-${i % 4}`, user_id: `u${i % 4}`, ...(i % 2 === 0 ? { client_ts: now - 60_000 + i } : {}) };
      await js.publish(subjectOf(prefix, name), encodeEvent(name, context));
    }
    await js.publish(`${prefix}.batch`, encodeBatch([0, 1, 2].map((i) => ({ name: 'message_sent', context: { client_id: 'batcher', client_ts: now - 1000 + i } }))));
    await js.publish(`${prefix}.events`, new TextEncoder().encode('{"not": "protobuf"}'));
    await js.publish(`${prefix}.message.sent`, encodeEvent('message_sent', { client_id: 'after-garbage', client_ts: now }));

    await drained();
    const rows = await storedRows(app);
    assert.equal(rows.length, 16 + 3 + 1);
    assert.ok(rows.some((r) => r.anonymous_id === 'after-garbage'), 'the message after the garbage one arrived');
    for (const name of FECHATTER_EVENT_NAMES) {
      const row = rows.find((r) => r.event_name === name && r.anonymous_id.startsWith('nats-'))!;
      assert.equal(row.event_type, EVENT_SAMPLES[name]!.family);
      assert.deepEqual(JSON.parse(row.properties), EVENT_SAMPLES[name]!.properties, name);
      assert.ok(row.session_id, 'a session by the 10-minute rule');
    }

    const dead = await jsm.streams.getMessage(deadLetters, { last_by_subj: `dead-letter.${deadLetters}.${prefix}.events` });
    assert.equal(new TextDecoder().decode(dead!.data), '{"not": "protobuf"}');
    assert.match(dead!.header.get('Fechatter-Dead-Letter-Reason'), /not a protobuf fechatter\.v1\.AnalyticsEvent/);
    const ready = await call(app.url, 'GET', '/ready');
    assert.equal(ready.body.fechatterNats.connected, true);
    assert.equal(ready.body.fechatterNats.deadLettered, 1);
    assert.equal(ready.body.fechatterNats.messages, 16 + 1 + 1 + 1);
  });

  it('stores a redelivered message once: the consumer killed before its acks, its messages delivered again', async () => {
    await app!.close();
    app = undefined;
    // The acks of everything above are lost: a new consumer of that name starts from the stream's beginning.
    await jsm.consumers.delete(stream, 'analytics-processor');
    app = await startApp(env());
    await eventually(async () => {
      const info = await jsm.consumers.info(stream, 'analytics-processor').catch((err) => ({ delivered: { stream_seq: -1 }, err }));
      const ready = await call(app!.url, 'GET', '/ready');
      assert.ok(info.delivered.stream_seq >= 19, JSON.stringify({ info, fechatter: ready.body.fechatterNats }));
    }, 20_000);
    await drained();
    const rows = await storedRows(app);
    assert.equal(rows.length, 20, 'every event once');
    assert.equal(new Set(rows.map((r) => r.event_id)).size, 20);
    const ready = await call(app.url, 'GET', '/ready');
    assert.equal(ready.body.fechatterNats.duplicates, 20, 'each event recognised as stored');
    assert.equal(ready.body.fechatterNats.deadLettered, 0, 'the garbage message was already set aside');
    assert.equal((await jsm.streams.info(deadLetters)).state.messages, 1, 'the garbage message set aside once');
    const search = await call(app.url, 'GET', '/api/events/search?eventName=message_sent&limit=100', { secret: read });
    assert.equal(search.body.events.length, 1 + 3 + 1);
  });
});

describe("Fechatter's NATS stream in production (JetStream ingest log): a redelivery in another batch", { skip }, () => {
  const id = randomUUID().slice(0, 8);
  const prefix = `p${id}.fechatter.analytics`;
  const stream = `FECHATTER_PROD_${id}`;
  const deadLetters = `FECHATTER_PROD_DL_${id}`;
  const ingestStream = `INGEST_PROD_${id}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'fechatter-prod-'));
  let accountId: string;
  let nc: Awaited<ReturnType<typeof connect>>;
  let jsm: JetStreamManager;
  const apps: TestApp[] = [];

  /** Rows stored for the account, and distinct event ids among them. */
  async function counted(t: TestApp) {
    const [r] = await t.app
      .get<EventsStore>(EVENTS_STORE)
      .query<{ n: string; u: string }>(`SELECT count() AS n, uniqExact(event_id) AS u FROM events WHERE account_id = {a:String}`, { a: accountId });
    return { rows: Number(r!.n), events: Number(r!.u) };
  }

  const env = () => ({
    DATA_DIR: dataDir,
    NATS_URL,
    NATS_STREAM: ingestStream,
    NATS_SUBJECT: `p${id}.ingest`,
    NATS_ACK_WAIT_SECONDS: '5',
    // Off, so only the writer can recognise the redelivered events (after a restart the window
    // is seeded from the store, which a copy still in the ingest log is not in yet).
    INGEST_DEDUP_WINDOW: '0',
    FECHATTER_NATS_ENABLED: 'true',
    FECHATTER_ACCOUNT_ID: accountId,
    FECHATTER_NATS_STREAM: stream,
    FECHATTER_NATS_SUBJECTS: `${prefix}.>`,
    FECHATTER_NATS_DEAD_LETTER_STREAM: deadLetters,
  });

  before(async () => {
    const first = await startApp({ DATA_DIR: dataDir });
    accountId = (await createAccount(first.url, 'fechatter-prod')).accountId;
    await first.close();
    nc = await connect({ servers: NATS_URL });
    jsm = await jetstreamManager(nc);
    // Fechatter's stream and consumer exist already (they are left as they are), with a short ack
    // wait so an unacknowledged message comes back within the test.
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`], storage: StorageType.File });
    await jsm.consumers.add(stream, {
      durable_name: 'analytics-processor',
      ack_policy: AckPolicy.Explicit,
      filter_subject: `${prefix}.>`,
      ack_wait: 2 * 1e9,
      max_deliver: -1,
    });
  });

  after(async () => {
    for (const a of apps) await a.close().catch(() => undefined);
    await nc?.close();
    await deleteStreams([stream, deadLetters, ingestStream]);
  });

  it('stores each event once when a process appended them one message at a time and died before acking, and the next takes them in one batch', async () => {
    const first = await startApp(env());
    apps.push(first);
    // The first process appends every message's events on its own (one ingest call, one ingest-log
    // message each) and never acknowledges, as if killed right after its appends.
    let appended = 0;
    const consumer = first.app.get(FechatterNatsConsumer) as unknown as {
      take(accountId: string, batch: JsMsg[]): Promise<boolean>;
      store(accountId: string, taken: unknown[]): Promise<void>;
      decode(msg: JsMsg): unknown;
    };
    consumer.take = async function (this: typeof consumer, account: string, batch: JsMsg[]) {
      for (const m of batch) {
        if (m.redelivered) continue; // this process is "dead": a redelivery to it is never taken
        await this.store(account, [this.decode(m)]);
        appended++;
      }
      return true;
    };
    const js = jetstream(nc);
    const total = 60;
    const now = Date.now();
    for (let i = 0; i < total; i++) {
      // Half identified by their bytes (client timestamp), half by their stream position.
      const context = { client_id: `prod-${i % 5}`, ...(i % 2 === 0 ? { client_ts: now - 60_000 + i } : {}) };
      await js.publish(`${prefix}.message.sent`, encodeEvent('message_sent', context, { type: 'text', size: i }));
    }
    await eventually(async () => assert.equal(appended, total), 20_000);
    await first.app.get(IngestPipelineService).flush();
    assert.deepEqual(await counted(first), { rows: total, events: total }, 'the first copies are stored');
    await first.close();
    apps.pop();

    const second = await startApp(env());
    apps.push(second);
    await eventually(async () => {
      const info = await jsm.consumers.info(stream, 'analytics-processor');
      assert.equal(info.num_pending + info.num_ack_pending, 0, `pending ${info.num_pending}, unacknowledged ${info.num_ack_pending}`);
    }, 30_000);
    await second.app.get(IngestPipelineService).flush();
    const ready = await call(second.url, 'GET', '/ready');
    assert.equal(ready.body.fechatterNats.redelivered, total, 'every message came back redelivered');
    assert.deepEqual(await counted(second), { rows: total, events: total }, 'none stored twice');
  });
});
