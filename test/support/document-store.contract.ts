import assert from 'node:assert/strict';
import { describe, it as test } from 'node:test';
import { type DocumentStore, DuplicateKeyError } from '../../src/infrastructure/documents/documents.port.js';

interface Item {
  _id: string;
  owner: string;
  n: number;
  tag?: string;
}

/** The documents port's one contract (NeDB now; MongoDB runs it when MONGODB_URI is set). */
export function documentStoreContract(
  name: string,
  make: () => { open: () => Promise<DocumentStore> },
  skip: false | string = false,
) {
  describe(`document store contract: ${name}`, () => {
    // Skipped per test (not per suite) so the runner counts and reports every skipped test.
    const it = (title: string, fn: () => Promise<void>) => test(title, { skip }, fn);
    it('refuses a stale write when the filter carries a version (optimistic concurrency)', async () => {
      const store = await make().open();
      const items = await store.collection<Item & { version: number }>('versioned');
      await items.insert({ _id: 'v', owner: 'a', n: 0, version: 1 });
      const first = await items.update({ _id: 'v', version: 1 }, { $set: { n: 1 }, $inc: { version: 1 } });
      const stale = await items.update({ _id: 'v', version: 1 }, { $set: { n: 2 }, $inc: { version: 1 } });
      assert.deepEqual([first, stale], [1, 0]);
      assert.equal((await items.findOne({ _id: 'v' }))?.n, 1);
      await store.close();
    });

    it('lets exactly one of concurrent writes conditional on the same version win', async () => {
      // What a PUT with If-Match or a body version relies on when two clients race.
      const store = await make().open();
      const items = await store.collection<Item & { version: number }>('raced');
      await items.insert({ _id: 'r', owner: 'a', n: 0, tag: 'old', version: 1 });
      const results = await Promise.all(
        [1, 2, 3, 4].map((n) => items.update({ _id: 'r', owner: 'a', version: 1 }, { $set: { n }, $unset: { tag: true }, $inc: { version: 1 } })),
      );
      assert.deepEqual([...results].sort(), [0, 0, 0, 1]);
      const r = await items.findOne({ _id: 'r' });
      assert.deepEqual({ n: r?.n, tag: r?.tag, version: r?.version }, { n: results.indexOf(1) + 1, tag: undefined, version: 2 });
      await store.close();
    });

    it('claims like an outbox: $or of $in and an expired lease, one winner among racers; two-key sorts', async () => {
      // What alert deliveries rely on: a claim wins once, a lease left by a dead worker is taken over.
      const store = await make().open();
      const outbox = await store.collection<{ _id: string; status: string; since?: number; tries: number; at: number }>('outbox');
      await outbox.insert({ _id: 'pending', status: 'pending', tries: 0, at: 2 });
      await outbox.insert({ _id: 'stale', status: 'sending', since: 100, tries: 1, at: 1 });
      await outbox.insert({ _id: 'live', status: 'sending', since: 900, tries: 1, at: 1 });
      await outbox.insert({ _id: 'sent', status: 'sent', tries: 1, at: 3 });
      const claim = (id: string) =>
        outbox.update(
          { _id: id, $or: [{ status: { $in: ['pending', 'failed'] } }, { status: 'sending', since: { $lt: 500 } }] },
          { $set: { status: 'sending', since: 1000 }, $inc: { tries: 1 } },
        );
      assert.deepEqual([...(await Promise.all([1, 2, 3].map(() => claim('pending'))))].sort(), [0, 0, 1]);
      assert.deepEqual(await Promise.all(['stale', 'live', 'sent'].map(claim)), [1, 0, 0]);
      assert.deepEqual((await outbox.find({ _id: { $in: ['pending', 'stale'] } }, { sort: { _id: 1 } })).map((d) => d.tries), [1, 2]);
      assert.deepEqual((await outbox.find({}, { sort: { at: -1, _id: -1 } })).map((d) => d._id), ['sent', 'pending', 'stale', 'live']);
      await store.close();
    });

    it('inserts, finds with Mongo-style filters, sorts, pages and counts', async () => {
      const store = await make().open();
      const items = await store.collection<Item>('items');
      for (let i = 0; i < 5; i++) await items.insert({ _id: `i${i}`, owner: i < 3 ? 'a' : 'b', n: i });
      assert.equal((await items.findOne({ _id: 'i2' }))?.n, 2);
      assert.equal(await items.findOne({ _id: 'nope' }), null);
      const page = await items.find({ owner: 'a' }, { sort: { n: -1 }, skip: 1, limit: 1 });
      assert.deepEqual(page.map((d) => d._id), ['i1']);
      assert.equal(await items.count({ n: { $gte: 2 } }), 3);
      assert.deepEqual((await items.find({ owner: { $in: ['b'] } }, { sort: { n: 1 } })).map((d) => d.n), [3, 4]);
      await store.close();
    });

    it('updates with $set/$unset/$inc and removes', async () => {
      const store = await make().open();
      const items = await store.collection<Item>('items');
      await items.insert({ _id: 'x', owner: 'a', n: 1, tag: 't' });
      assert.equal(await items.update({ _id: 'x' }, { $set: { owner: 'c' }, $unset: { tag: true }, $inc: { n: 2 } }), 1);
      const x = await items.findOne({ _id: 'x' });
      assert.deepEqual({ owner: x?.owner, n: x?.n, tag: x?.tag }, { owner: 'c', n: 3, tag: undefined });
      assert.equal(await items.update({ _id: 'missing' }, { $set: { n: 1 } }), 0);
      assert.equal(await items.remove({ _id: 'x' }), 1);
      assert.equal(await items.count({}), 0);
      await store.close();
    });

    it('enforces unique indexes with DuplicateKeyError', async () => {
      const store = await make().open();
      const items = await store.collection<Item>('uniq');
      await items.ensureIndex('tag', { unique: true, sparse: true });
      await items.ensureIndex('tag', { unique: true, sparse: true }); // again: a no-op
      await items.insert({ _id: '1', owner: 'a', n: 1, tag: 'same' });
      await assert.rejects(items.insert({ _id: '2', owner: 'a', n: 2, tag: 'same' }), DuplicateKeyError);
      await store.close();
    });

    it('keeps documents across a reopen', async () => {
      const factory = make();
      const first = await factory.open();
      await (await first.collection<Item>('kept')).insert({ _id: 'k', owner: 'a', n: 7 });
      await first.close();
      const second = await factory.open();
      assert.equal((await (await second.collection<Item>('kept')).findOne({ _id: 'k' }))?.n, 7);
      await second.close();
    });
  });
}
