import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it as test } from 'node:test';
import { loadConfig } from '../src/config/config.schema.js';
import type { IngestBatch } from '../src/infrastructure/ingest-log/ingest-log.port.js';
import { IngestBackpressureError } from '../src/infrastructure/ingest-log/ingest-log.port.js';
import { JetStreamIngestLog, splitRows } from '../src/infrastructure/ingest-log/jetstream.ingest-log.js';
import { deleteStreams, NATS_URL, needs } from './support/services.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

const streams: string[] = [];

/** A fresh stream and consumer per test, on the real NATS server (deleted after the suite). */
function makeLog(env: Record<string, string> = {}) {
  const id = randomUUID().slice(0, 8);
  streams.push(`TEST_${id}`);
  const config = loadConfig({
    NATS_URL,
    NATS_MAX_BYTES: String(64 * 1024 * 1024),
    NATS_STREAM: `TEST_${id}`,
    NATS_SUBJECT: `test.${id}.events`,
    NATS_CONSUMER: `writer-${id}`,
    ...env,
  });
  return new JetStreamIngestLog({ nats: config.nats, connectionName: `test-${id}`, logger: quiet });
}

const row = (i: number) => `${JSON.stringify({ i, event_id: randomUUID(), account_id: 'a', received_at: '2026-01-01 00:00:00.000' })}\n`;
const rowsOf = (batches: IngestBatch[]) =>
  batches.flatMap((b) => b.rows.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l).i as number));

const skip = await needs('nats');

describe('JetStream ingest log', () => {
  const it = (title: string, fn: () => Promise<void>) => test(title, { skip }, fn);
  after(() => deleteStreams(streams));

  it('delivers appended rows to the writer and acks them after the sink stored them', async () => {
    const log = makeLog();
    const batches: IngestBatch[] = [];
    await log.start(async (b) => void batches.push(b));
    await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(Buffer.from(row(i)), 1)));
    await log.flush();
    assert.deepEqual(rowsOf(batches).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
    assert.ok(batches.every((b) => !b.replay));
    assert.equal(log.stats().flushedEvents, 50);
    await log.stop();
  });

  it('keeps a batch unacknowledged and retries it while the store fails', async () => {
    const log = makeLog();
    let failures = 2;
    const batches: IngestBatch[] = [];
    await log.start(async (b) => {
      if (failures-- > 0) throw new Error('store down');
      batches.push(b);
    });
    await log.append(Buffer.from(row(1) + row(2)), 2);
    await log.flush();
    assert.deepEqual(rowsOf(batches), [1, 2]);
    assert.equal(log.stats().failedFlushes, 2);
    await log.stop();
  });

  it('redelivers what a writer took but never acked, marked as a replay', async () => {
    const env = { NATS_ACK_WAIT_SECONDS: '5' };
    const first = makeLog(env);
    // The writer's sink never returns: like a process killed mid-insert, it never acks.
    let took = 0;
    await first.start(() => {
      took++;
      return new Promise(() => undefined);
    });
    await first.append(Buffer.from(row(7)), 1);
    while (took === 0) await new Promise((r) => setTimeout(r, 20));
    const opts = (first as unknown as { options: { nats: Record<string, unknown> } }).options;
    // A second writer on the same consumer gets the message again once the ack wait passes.
    const second = new JetStreamIngestLog({ nats: opts.nats as never, connectionName: 'second', logger: quiet });
    const replays: IngestBatch[] = [];
    await second.start(async (b) => void replays.push(b));
    const deadline = Date.now() + 15_000;
    while (replays.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(replays.length, 1);
    assert.equal(replays[0]!.replay, true);
    assert.deepEqual(rowsOf(replays), [7]);
    void first.stop();
    await second.stop();
  });

  it("hands a source's redelivered rows to the writer as a replay, with the earliest time an earlier copy can have been received", async () => {
    const log = makeLog();
    const batches: IngestBatch[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // Held until both appends are in, so they reach the writer in one fetch.
    await log.start(async (b) => {
      await held;
      batches.push(b);
    });
    await log.append(Buffer.from(row(1)), 1);
    await log.append(Buffer.from(row(2) + row(3)), 2, { redeliveredSince: 1_700_000_000_000 });
    await log.append(Buffer.from(row(4)), 1, { redeliveredSince: 1_600_000_000_000 });
    release();
    await log.flush();
    const fresh = batches.filter((b) => !b.replay);
    const replays = batches.filter((b) => b.replay);
    assert.deepEqual(rowsOf(fresh), [1]);
    assert.ok(fresh.every((b) => b.replaySince === undefined));
    assert.deepEqual(rowsOf(replays).sort(), [2, 3, 4]);
    assert.ok(replays.every((b) => b.replaySince === 1_600_000_000_000 || (b.count === 2 && b.replaySince === 1_700_000_000_000)));
    await log.stop();
  });

  it('drops a retried message with the same id (JetStream duplicate window)', async () => {
    const log = makeLog();
    const batches: IngestBatch[] = [];
    await log.start(async (b) => void batches.push(b));
    await log.append(Buffer.from(row(1)), 1, { dedupKey: 'same-key' });
    await log.append(Buffer.from(row(1)), 1, { dedupKey: 'same-key' });
    await log.append(Buffer.from(row(2)), 1, { dedupKey: 'other-key' });
    await log.flush();
    assert.deepEqual(rowsOf(batches).sort(), [1, 2]);
    await log.stop();
  });

  it('splits a large append into messages under the payload limit, on row boundaries', async () => {
    const big = Array.from({ length: 400 }, (_, i) => `${JSON.stringify({ i, pad: 'x'.repeat(5000) })}\n`).join('');
    const chunks = splitRows(Buffer.from(big), 900 * 1024);
    assert.ok(chunks.length >= 2);
    assert.ok(chunks.every((c) => c.length <= 900 * 1024 && c.at(-1) === 0x0a));
    assert.equal(Buffer.concat(chunks).toString(), big);
    const log = makeLog();
    const batches: IngestBatch[] = [];
    await log.start(async (b) => void batches.push(b));
    await log.append(Buffer.from(big), 400);
    await log.flush();
    assert.equal(rowsOf(batches).length, 400);
    await log.stop();
  });

  it('refuses appends with backpressure when the stream is full', async () => {
    const log = makeLog({ NATS_MAX_BYTES: String(1024 * 1024) });
    await log.start(null); // ROLE=api: nobody drains it
    const chunk = Buffer.from(Array.from({ length: 100 }, () => `${JSON.stringify({ pad: 'y'.repeat(1000) })}\n`).join(''));
    let refused: unknown = null;
    for (let i = 0; i < 30 && !refused; i++) {
      await log.append(chunk, 100).catch((err: unknown) => (refused = err));
    }
    assert.ok(refused instanceof IngestBackpressureError, String(refused));
    assert.ok(refused.retryAfterSeconds >= 1);
    await log.stop();
  });
});
