import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { IngestBatch } from './ingest-log.port.js';
import { IngestBackpressureError } from './ingest-log.port.js';
import { LocalIngestLog, type LocalIngestLogOptions } from './local.ingest-log.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

function makeLog(overrides: Partial<LocalIngestLogOptions> = {}) {
  const dir = overrides.dir ?? mkdtempSync(join(tmpdir(), 'ingest-log-'));
  const log = new LocalIngestLog({
    dir,
    fsync: 'always',
    flushIntervalMs: 60_000, // tests flush explicitly
    flushMaxEvents: 1_000_000,
    maxBytes: 1024 * 1024,
    memoryBufferBytes: 1024 * 1024,
    logger: quiet,
    ...overrides,
  });
  return { dir, log };
}

/** A sink that records what it stored, and fails while `down` is set. */
function recordingSink() {
  const batches: IngestBatch[] = [];
  const state = { down: false };
  const sink = async (batch: IngestBatch) => {
    if (state.down) throw new Error('store unreachable');
    batches.push(batch);
  };
  const rows = () => batches.flatMap((b) => b.rows.toString().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)));
  return { batches, state, sink, rows };
}

const line = (i: number) => Buffer.from(`${JSON.stringify({ i })}\n`);

describe('LocalIngestLog', () => {
  it('groups concurrent appends into few disk writes and delivers them as one batch', async () => {
    const { log } = makeLog();
    const { sink, batches, rows } = recordingSink();
    await log.start(sink);
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(line(i), 1)));
    assert.equal(log.stats().pendingEvents, 200);
    await log.flush();
    assert.equal(batches.length, 1, 'one sealed segment, one batch');
    assert.equal(batches[0]!.count, 200);
    assert.deepEqual(
      rows().map((r) => r.i),
      Array.from({ length: 200 }, (_, i) => i),
    );
    assert.equal(log.stats().pendingEvents, 0);
    await log.stop();
  });

  it('keeps acknowledged rows on disk until the sink stores them, then deletes the segment', async () => {
    const { dir, log } = makeLog();
    const { sink, state } = recordingSink();
    await log.start(sink);
    await log.append(line(1), 1);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ndjson'));
    assert.equal(files.length, 1);
    assert.equal(readFileSync(join(dir, files[0]!), 'utf8'), '{"i":1}\n', 'durable before the ack');
    state.down = true;
    await assert.rejects(log.flush(), /could not flush/);
    assert.equal(log.stats().pendingEvents, 1);
    assert.equal(log.stats().failedFlushes, 1);
    state.down = false;
    await log.flush();
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.ndjson')).length, 1, 'only the new, empty active segment');
    await log.stop();
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.ndjson')).length, 0);
  });

  it('replays what a crashed run left, cutting a torn unacknowledged tail, with a stable batch id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingest-log-'));
    const name = '000000000007-0f7c2a10-9d8f-4c55-9b43-1f5a3e2c9d11';
    writeFileSync(join(dir, `${name}.ndjson`), '{"i":1}\n{"i":2}\n{"i":3');
    const { log } = makeLog({ dir });
    const { sink, batches, rows } = recordingSink();
    const recovered: unknown[] = [];
    await log.start(sink, (row) => recovered.push(row));
    assert.deepEqual(rows(), [{ i: 1 }, { i: 2 }]);
    assert.equal(batches[0]!.id, name, 'the batch id is the segment name: a replay after a crash reuses it');
    assert.deepEqual(recovered, [{ i: 1 }, { i: 2 }]);
    await log.append(line(4), 1);
    await log.flush();
    const newest = batches.at(-1)!;
    assert.ok(newest.id > name, 'new segments sort after recovered ones');
    await log.stop();
  });

  it('moves unreadable lines to quarantine instead of blocking or dropping them silently', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingest-log-'));
    writeFileSync(join(dir, '000000000001-aaaaaaaa-9d8f-4c55-9b43-1f5a3e2c9d11.ndjson'), '{"i":1}\nnot json\n{"i":2}\n');
    const { log } = makeLog({ dir });
    const { sink, rows } = recordingSink();
    await log.start(sink);
    assert.deepEqual(rows(), [{ i: 1 }, { i: 2 }]);
    assert.equal(readFileSync(join(dir, 'quarantine.ndjson'), 'utf8'), 'not json\n');
    await log.stop();
  });

  it('answers backpressure once the unflushed log reaches its cap, and recovers after a flush', async () => {
    const { log } = makeLog({ maxBytes: 64 });
    const { sink, state } = recordingSink();
    await log.start(sink);
    state.down = true;
    const big = Buffer.from(`${JSON.stringify({ pad: 'x'.repeat(40) })}\n`);
    await log.append(big, 1);
    await assert.rejects(log.append(big, 1), (err: unknown) => {
      assert.ok(err instanceof IngestBackpressureError);
      assert.ok(err.retryAfterSeconds >= 1);
      return true;
    });
    state.down = false;
    await log.flush();
    await log.append(big, 1);
    await log.stop();
  });

  it('rereads evicted rows from disk when memory is over budget', async () => {
    const { log } = makeLog({ memoryBufferBytes: 0 });
    const { sink, rows } = recordingSink();
    await log.start(sink);
    await log.append(Buffer.concat([line(1), line(2)]), 2);
    await log.flush();
    assert.deepEqual(rows(), [{ i: 1 }, { i: 2 }]);
    await log.stop();
  });

  it('leaves unflushed rows on disk at stop when the sink is down, for the next start', async () => {
    const { dir, log } = makeLog();
    const first = recordingSink();
    await log.start(first.sink);
    first.state.down = true;
    await log.append(line(1), 1);
    await log.stop();
    const { log: again } = makeLog({ dir });
    const second = recordingSink();
    await again.start(second.sink);
    assert.deepEqual(second.rows(), [{ i: 1 }]);
    await again.stop();
  });

  it('seals on the timer even while writes keep coming', async () => {
    const { log } = makeLog({ flushIntervalMs: 20 });
    const { sink, rows } = recordingSink();
    await log.start(sink);
    for (let i = 0; i < 50; i++) {
      await log.append(line(i), 1);
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(rows().length, 50);
    await log.stop();
  });

  it('refuses appends after stop', async () => {
    const { log } = makeLog();
    await log.start(recordingSink().sink);
    await log.stop();
    await assert.rejects(log.append(line(1), 1), IngestBackpressureError);
  });
});

