import { type DynamicModule, Module } from '@nestjs/common';
import { closeOnShutdown } from '../close-on-shutdown.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { DOCUMENT_STORE, type DocumentStore } from './documents.port.js';
import { MongoDocumentStore } from './mongo.document-store.js';
import { NedbDocumentStore } from './nedb.document-store.js';

/**
 * Picks the documents adapter: MongoDB when MONGODB_URI is set, NeDB files under DATA_DIR
 * otherwise; or a store the caller opened and owns (an embedding process running two app
 * instances over one NeDB store, as the replica tests do: NeDB files cannot be shared by two
 * processes). The app does not close a store it was given.
 */
@Module({})
export class DocumentsModule {
  static forRoot(given?: DocumentStore): DynamicModule {
    if (given) return { module: DocumentsModule, providers: [{ provide: DOCUMENT_STORE, useValue: given }], exports: [DOCUMENT_STORE] };
    return {
      module: DocumentsModule,
      providers: [
        {
          provide: DOCUMENT_STORE,
          inject: [APP_CONFIG],
          useFactory: async (config: AppConfig): Promise<DocumentStore> =>
            config.mongodbUri ? MongoDocumentStore.connect(config.mongodbUri) : new NedbDocumentStore(config.dataDir),
        },
        closeOnShutdown(DOCUMENT_STORE),
      ],
      exports: [DOCUMENT_STORE],
    };
  }
}
