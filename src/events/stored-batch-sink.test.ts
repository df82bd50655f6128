import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, NestFactory } from '@nestjs/core';
import type { IngestBatch } from '../infrastructure/ingest-log/ingest-log.port.js';
import { discoverStoredBatchSinks, orderStoredBatchSinks, type StoredBatchSink, StoredBatchSinkProvider } from './stored-batch-sink.js';

const sink = (name: string, order: number): StoredBatchSink => ({ name, order, handle: async () => undefined });

describe('stored-batch sinks', () => {
  it('run lowest order first, ties by name', () => {
    const ordered = orderStoredBatchSinks([sink('note', 1000), sink('b', 500), sink('index', 100), sink('a', 500)]);
    assert.deepEqual(ordered.map((s) => s.name), ['index', 'a', 'b', 'note']);
  });

  it('refuses two sinks of one name, and what is not a sink', () => {
    assert.throws(() => orderStoredBatchSinks([sink('index', 100), sink('index', 200)]), /two stored-batch sinks are named "index"/);
    assert.throws(() => orderStoredBatchSinks([{ name: 'x', order: 1 }]), /"x" has no handle\(\)/);
    assert.throws(() => orderStoredBatchSinks([{ name: 'x', order: Number.NaN, handle: async () => undefined }]), /no numeric order/);
    assert.throws(() => orderStoredBatchSinks([{ order: 1, handle: async () => undefined }]), /has no name/);
  });

  it('are found in whichever module provides them', async () => {
    const seen: string[] = [];
    @StoredBatchSinkProvider()
    @Injectable()
    class Late implements StoredBatchSink {
      readonly name = 'late';
      readonly order = 900;
      async handle(batch: IngestBatch, rows: Buffer): Promise<void> {
        seen.push(`late ${batch.id} ${rows.length}`);
      }
    }
    @StoredBatchSinkProvider()
    @Injectable()
    class Early implements StoredBatchSink {
      readonly name = 'early';
      readonly order = 10;
      async handle(batch: IngestBatch): Promise<void> {
        seen.push(`early ${batch.id}`);
      }
    }
    @Injectable()
    class NotASink {}
    @Module({ providers: [Late] })
    class FeatureModule {}
    @Module({ imports: [DiscoveryModule, FeatureModule], providers: [Early, NotASink] })
    class RootModule {}

    const app = await NestFactory.createApplicationContext(RootModule, { logger: false });
    try {
      const sinks = discoverStoredBatchSinks(app.get(DiscoveryService));
      assert.deepEqual(sinks.map((s) => s.name), ['early', 'late']);
      for (const s of sinks) await s.handle({ id: 'b1', rows: Buffer.from('{}\n'), count: 1 }, Buffer.from('{}\n'));
      assert.deepEqual(seen, ['early b1', 'late b1 3']);
    } finally {
      await app.close();
    }
  });

  it('fail discovery when one is registered twice', async () => {
    @StoredBatchSinkProvider()
    @Injectable()
    class Twice implements StoredBatchSink {
      readonly name = 'twice';
      readonly order = 1;
      async handle(): Promise<void> {}
    }
    @Module({ providers: [Twice] })
    class A {}
    @Module({ providers: [Twice] })
    class B {}
    @Module({ imports: [DiscoveryModule, A, B] })
    class RootModule {}

    const app = await NestFactory.createApplicationContext(RootModule, { logger: false });
    try {
      assert.throws(() => discoverStoredBatchSinks(app.get(DiscoveryService)), /two stored-batch sinks are named "twice"/);
    } finally {
      await app.close();
    }
  });
});
