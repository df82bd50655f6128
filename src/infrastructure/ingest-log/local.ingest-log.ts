import { randomUUID } from 'node:crypto';
import { closeSync, fdatasync, fsync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, writevSync } from 'node:fs';
import { appendFile, readFile, rename, truncate, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '@nestjs/common';
import type { FsyncPolicy } from '../../config/config.schema.js';
import {
  IngestBackpressureError,
  type IngestLog,
  type IngestLogStats,
  type IngestSink,
} from './ingest-log.port.js';

const fdatasyncAsync = promisify(fdatasync);

export interface LocalIngestLogOptions {
  dir: string;
  fsync: FsyncPolicy;
  flushIntervalMs: number;
  flushMaxEvents: number;
  maxBytes: number;
  memoryBufferBytes: number;
  logger: Pick<Logger, 'log' | 'warn' | 'error'>;
}

interface Segment {
  /** `<seq>-<uuid>`: seq orders segments, the uuid keeps ids unique even if the folder is wiped. */
  id: string;
  path: string;
  fd: number | null;
  bytes: number;
  count: number;
  /** The rows kept in memory, or null once evicted (then re-read from the file). */
  chunks: Buffer[] | null;
}

interface PendingAppend {
  rows: Buffer;
  count: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

const SEGMENT_SUFFIX = '.ndjson';
const MAX_RETRY_DELAY_MS = 30_000;

/**
 * A local append-only log with group commit. Concurrent appends are gathered and written with
 * one writev (+ one fdatasync when fsync=always), then all of them are acknowledged together,
 * so single-event requests do not each pay for a disk flush. Every flushIntervalMs (or
 * flushMaxEvents) the active segment is sealed and handed to the sink as one batch; a segment
 * file is deleted only after the sink stored it. At start, segments left by a crash are
 * replayed; a torn last line (written but never acknowledged) is cut off.
 */
export class LocalIngestLog implements IngestLog {
  private readonly dir: string;
  private active: Segment | null = null;
  private readonly sealed: Segment[] = [];
  private pending: PendingAppend[] = [];
  private writing = false;
  /** Set by the flush timer while a group write is running; the write loop seals between groups. */
  private rotateRequested = false;
  private stopping = false;
  private sink: IngestSink | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private fsyncTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private retryDelayMs = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private nextSeq = 1;
  private memBytes = 0;
  private unflushedBytes = 0;
  private unflushedEvents = 0;
  private readonly counters = {
    appendedEvents: 0,
    flushedEvents: 0,
    failedFlushes: 0,
    lastFlushError: null as string | null,
    lastFlushAt: null as string | null,
  };

  constructor(private readonly options: LocalIngestLogOptions) {
    this.dir = resolve(options.dir);
  }

  async start(sink: IngestSink | null, onRecoveredRow?: (row: Record<string, unknown>) => void): Promise<void> {
    if (!sink) throw new Error('the local ingest log needs its sink in the same process (ROLE=all)');
    mkdirSync(this.dir, { recursive: true });
    this.sink = sink;
    await this.recover(onRecoveredRow);
    this.openActive();
    this.flushTimer = setInterval(() => this.rotateAndFlush(), this.options.flushIntervalMs);
    this.flushTimer.unref();
    if (this.options.fsync === 'everysec') {
      this.fsyncTimer = setInterval(() => this.syncActive(), 1000);
      this.fsyncTimer.unref();
    }
    // Replay right away so recovered events reach the store before new ones pile up.
    if (this.sealed.length > 0) await this.drainSealed();
  }

  /**
   * Append options are not needed here: one process owns this log, and the ingest service's
   * window of recent ids (seeded from the rows this log recovers and from the store) recognises
   * a redelivered or retried event.
   */
  append(rows: Buffer, count: number): Promise<void> {
    if (this.stopping || !this.active) {
      return Promise.reject(new IngestBackpressureError('ingestion is shutting down', 1));
    }
    if (this.unflushedBytes + rows.length > this.options.maxBytes) {
      return Promise.reject(
        new IngestBackpressureError(
          `ingest log is full (${this.unflushedBytes} bytes waiting for the events store)`,
          Math.max(1, Math.ceil(this.retryDelayMs / 1000)),
        ),
      );
    }
    this.unflushedBytes += rows.length;
    this.unflushedEvents += count;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ rows, count, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        // Gather every append that arrives in this turn of the event loop into one write.
        setImmediate(() => void this.writeLoop());
      }
    });
  }

  async flush(): Promise<void> {
    await this.waitForWrites();
    this.sealActive();
    await this.drainOnce();
    if (this.sealed.length > 0) {
      throw new Error(`ingest log could not flush: ${this.counters.lastFlushError ?? 'unknown error'}`);
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.fsyncTimer) clearInterval(this.fsyncTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.waitForWrites();
    this.sealActive();
    await this.drainOnce();
    if (this.active?.fd != null) {
      closeSync(this.active.fd);
      await unlink(this.active.path).catch(() => undefined);
    }
    this.active = null;
    if (this.sealed.length > 0) {
      this.options.logger.warn(
        { segments: this.sealed.length, events: this.unflushedEvents },
        'stopping with unflushed events; they stay in the ingest log and are replayed at the next start',
      );
    }
  }

  async ping(): Promise<boolean> {
    return this.active !== null && !this.stopping;
  }

  stats(): IngestLogStats {
    return {
      kind: 'local',
      ...this.counters,
      pendingEvents: this.unflushedEvents,
      pendingBytes: this.unflushedBytes,
    };
  }

  // --- writing -------------------------------------------------------------------------

  private async writeLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      const segment = this.active!;
      try {
        const buffers = group.map((p) => p.rows);
        let bytes = 0;
        let count = 0;
        for (const p of group) {
          bytes += p.rows.length;
          count += p.count;
        }
        // A synchronous write to the page cache takes microseconds; going through the thread
        // pool instead left the event loop idle while every waiting request sat in the group.
        writeFully(segment.fd!, buffers, bytes);
        if (this.options.fsync === 'always') await fdatasyncAsync(segment.fd!);
        segment.bytes += bytes;
        segment.count += count;
        this.counters.appendedEvents += count;
        if (segment.chunks) {
          if (this.memBytes + bytes <= this.options.memoryBufferBytes) {
            segment.chunks.push(...buffers);
            this.memBytes += bytes;
          } else {
            this.evict(segment);
          }
        }
        for (const p of group) p.resolve();
      } catch (err) {
        for (const p of group) {
          this.unflushedBytes -= p.rows.length;
          this.unflushedEvents -= p.count;
        }
        this.options.logger.error({ err }, 'ingest log write failed');
        const failure = new Error(`ingest log write failed: ${(err as Error).message}`);
        for (const p of group) p.reject(failure);
        // Cut whatever part of the failed write reached the file: those rows were not acknowledged.
        try {
          ftruncateSync(segment.fd!, segment.bytes);
        } catch (truncateErr) {
          this.options.logger.error({ err: truncateErr }, 'could not cut a failed write from the ingest log');
        }
      }
      if (this.rotateRequested || (this.active && this.active.count >= this.options.flushMaxEvents)) {
        this.rotateRequested = false;
        this.sealActive();
        if (this.retryTimer === null) void this.drainSealed();
      }
    }
    this.writing = false;
  }

  private async waitForWrites(): Promise<void> {
    while (this.writing || this.pending.length > 0) {
      await new Promise((r) => setImmediate(r));
    }
  }

  private openActive(): void {
    const id = `${String(this.nextSeq++).padStart(12, '0')}-${randomUUID()}`;
    const path = join(this.dir, id + SEGMENT_SUFFIX);
    const fd = openSync(path, 'a');
    // Make the new file's directory entry durable too, or a power loss could lose the file.
    if (this.options.fsync === 'always') syncDir(this.dir);
    this.active = { id, path, fd, bytes: 0, count: 0, chunks: [] };
  }

  private syncActive(): void {
    const fd = this.active?.fd;
    if (fd != null && !this.writing) fdatasync(fd, () => undefined);
  }

  /** Seals the active segment and opens the next one. Only call between group writes. */
  private sealActive(): void {
    const segment = this.active;
    if (!segment || segment.count === 0) return;
    closeAndSync(segment);
    this.sealed.push(segment);
    if (this.stopping) this.active = null;
    else this.openActive();
  }

  /** Timer tick: seal now, or ask the running write loop to seal between two groups. */
  private rotateAndFlush(): void {
    if (this.writing) {
      this.rotateRequested = true;
      return;
    }
    this.sealActive();
    if (this.retryTimer === null) void this.drainSealed();
  }

  // --- flushing ------------------------------------------------------------------------

  /**
   * Drains every sealed segment, or stops at the first failure. A drain already under way may
   * have passed its last check before the caller sealed a segment, hence the second pass.
   */
  private async drainOnce(): Promise<void> {
    for (let pass = 0; pass < 2 && this.sealed.length > 0; pass++) {
      const failuresBefore = this.counters.failedFlushes;
      await this.drainSealed();
      if (this.counters.failedFlushes > failuresBefore) return;
    }
  }

  private drainSealed(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.flushSealed().finally(() => {
        this.flushing = null;
      });
    }
    return this.flushing;
  }

  private async flushSealed(): Promise<void> {
    while (this.sealed.length > 0 && this.sink) {
      const segment = this.sealed[0]!;
      try {
        const rows = segment.chunks ? Buffer.concat(segment.chunks) : await readFile(segment.path);
        await this.sink({ id: segment.id, rows, count: segment.count });
      } catch (err) {
        this.counters.failedFlushes++;
        this.counters.lastFlushError = (err as Error).message;
        this.retryDelayMs = Math.min(MAX_RETRY_DELAY_MS, Math.max(250, this.retryDelayMs * 2));
        this.options.logger.warn(
          { err: (err as Error).message, segment: segment.id, events: segment.count, retryInMs: this.retryDelayMs },
          'flush to the events store failed; events stay in the ingest log',
        );
        this.evictOverBudget();
        if (!this.stopping) this.scheduleRetry();
        return;
      }
      this.sealed.shift();
      if (segment.chunks) this.memBytes -= segment.bytes;
      segment.chunks = null;
      this.unflushedBytes -= segment.bytes;
      this.unflushedEvents -= segment.count;
      this.counters.flushedEvents += segment.count;
      this.counters.lastFlushAt = new Date().toISOString();
      this.retryDelayMs = 0;
      await unlink(segment.path).catch((err) =>
        this.options.logger.error({ err, path: segment.path }, 'could not delete a flushed ingest log segment'),
      );
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.drainSealed();
    }, this.retryDelayMs);
    this.retryTimer.unref();
  }

  /** While the store is down, keep only the newest rows in memory; older ones are re-read from disk. */
  private evictOverBudget(): void {
    for (const segment of this.sealed) {
      if (this.memBytes <= this.options.memoryBufferBytes / 2) break;
      this.evict(segment);
    }
  }

  private evict(segment: Segment): void {
    if (!segment.chunks) return;
    for (const c of segment.chunks) this.memBytes -= c.length;
    segment.chunks = null;
  }

  // --- recovery ------------------------------------------------------------------------

  private async recover(onRecoveredRow?: (row: Record<string, unknown>) => void): Promise<void> {
    const names = readdirSync(this.dir)
      .filter((n) => n.endsWith(SEGMENT_SUFFIX))
      .sort();
    for (const name of names) {
      const path = join(this.dir, name);
      const id = name.slice(0, -SEGMENT_SUFFIX.length);
      const seq = Number(id.split('-')[0]);
      if (Number.isFinite(seq)) this.nextSeq = Math.max(this.nextSeq, seq + 1);
      const { bytes, count } = await this.repairSegment(path, onRecoveredRow);
      if (count === 0) {
        await unlink(path);
        continue;
      }
      this.sealed.push({ id, path, fd: null, bytes, count, chunks: null });
      this.unflushedBytes += bytes;
      this.unflushedEvents += count;
    }
    if (this.sealed.length > 0) {
      this.options.logger.log(
        { segments: this.sealed.length, events: this.unflushedEvents },
        'replaying unflushed events from the ingest log',
      );
    }
  }

  /**
   * Cuts a torn last line (never acknowledged) and moves unparsable lines to a quarantine file
   * (logged, never silently dropped) so one bad line cannot block the segment forever.
   */
  private async repairSegment(
    path: string,
    onRecoveredRow?: (row: Record<string, unknown>) => void,
  ): Promise<{ bytes: number; count: number }> {
    const data = await readFile(path);
    const end = data.lastIndexOf(0x0a) + 1;
    if (end < data.length) {
      this.options.logger.warn({ path, bytes: data.length - end }, 'cutting a torn, unacknowledged tail from the ingest log');
      await truncate(path, end);
    }
    const good: Buffer[] = [];
    const bad: Buffer[] = [];
    let start = 0;
    while (start < end) {
      const nl = data.indexOf(0x0a, start);
      const line = data.subarray(start, nl + 1);
      start = nl + 1;
      if (line.length <= 1) continue;
      try {
        const row = JSON.parse(line.toString('utf8')) as Record<string, unknown>;
        onRecoveredRow?.(row);
        good.push(line);
      } catch {
        bad.push(line);
      }
    }
    if (bad.length > 0) {
      const quarantine = join(this.dir, 'quarantine.ndjson');
      await appendFile(quarantine, Buffer.concat(bad));
      this.options.logger.error({ path, lines: bad.length, quarantine }, 'unreadable ingest log lines moved to quarantine');
      const tmp = `${path}.repair`;
      await appendFile(tmp, Buffer.concat(good));
      await rename(tmp, path);
    }
    const bytes = good.reduce((n, b) => n + b.length, 0);
    return { bytes, count: good.length };
  }
}

function writeFully(fd: number, buffers: Buffer[], total: number): void {
  let written = writevSync(fd, buffers);
  if (written === total) return;
  // A short write: finish the rest from a single buffer.
  const all = Buffer.concat(buffers);
  while (written < total) written += writevSync(fd, [all.subarray(written)]);
}

/**
 * Closes a sealed segment after an fsync that runs off the event loop: a synchronous fsync of a
 * second's worth of events blocked every request for ~100 ms. The rows are already written
 * (kill -9 safe); the fsync is what a power loss needs, as with the running segment.
 */
function closeAndSync(segment: Segment): void {
  const fd = segment.fd;
  if (fd == null) return;
  segment.fd = null;
  fsync(fd, () => closeSync(fd));
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
