import { randomUUID } from 'node:crypto';
import { MongoDocumentStore } from '../src/infrastructure/documents/mongo.document-store.js';
import { documentStoreContract } from './support/document-store.contract.js';

// MongoDB cannot be installed on the development and CI machines: this suite runs when
// MONGODB_URI points at a live server and is reported as skipped otherwise.
const uri = process.env.MONGODB_URI;
documentStoreContract(
  'MongoDB',
  () => {
    // One database per factory, so each test starts empty and the reopen test sees its data.
    const db = `analytics_test_${randomUUID().slice(0, 8)}`;
    return {
      open: async () => {
        const u = new URL(uri!);
        u.pathname = `/${db}`;
        return MongoDocumentStore.connect(u.toString());
      },
    };
  },
  uri ? false : 'MONGODB_URI is not set (no MongoDB server here)',
);
