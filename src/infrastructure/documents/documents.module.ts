import { type DynamicModule, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { DOCUMENT_STORE, type DocumentStore } from './documents.port.js';
import { NedbDocumentStore } from './nedb.document-store.js';

class DocumentStoreLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DOCUMENT_STORE) private readonly store: DocumentStore) {}
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/** Picks the documents adapter: NeDB files under DATA_DIR (MongoDB arrives with MONGODB_URI). */
@Module({})
export class DocumentsModule {
  static forRoot(): DynamicModule {
    return {
      module: DocumentsModule,
      providers: [
        {
          provide: DOCUMENT_STORE,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig): DocumentStore => new NedbDocumentStore(config.dataDir),
        },
        DocumentStoreLifecycle,
      ],
      exports: [DOCUMENT_STORE],
    };
  }
}
