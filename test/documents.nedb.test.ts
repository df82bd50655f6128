import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NedbDocumentStore } from '../src/infrastructure/documents/nedb.document-store.js';
import { documentStoreContract } from './support/document-store.contract.js';

documentStoreContract('NeDB (embedded)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nedb-'));
  return { open: async () => new NedbDocumentStore(dir) };
});
