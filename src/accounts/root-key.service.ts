import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { hashSecret, newClientSecret, sameHash } from './credentials.js';

/**
 * The root key authorizes account management. ROOT_API_KEY wins; otherwise a key is generated
 * on first start, kept in DATA_DIR/root-api-key (mode 0600) and logged once, at generation.
 */
@Injectable()
export class RootKeyService implements OnModuleInit {
  private readonly logger = new Logger('root-key');
  private hash = '';

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onModuleInit(): void {
    if (this.config.rootApiKey) {
      this.hash = hashSecret(this.config.rootApiKey);
      return;
    }
    const file = join(this.config.dataDir, 'root-api-key');
    if (existsSync(file)) {
      this.hash = hashSecret(readFileSync(file, 'utf8').trim());
      return;
    }
    const key = newClientSecret().replace(/^sk_/, 'root_');
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    this.hash = hashSecret(key);
    this.logger.warn(
      { rootApiKey: key, file },
      'generated a root API key (shown once; set ROOT_API_KEY to choose your own)',
    );
  }

  matchesHash(secretHash: string): boolean {
    return sameHash(secretHash, this.hash);
  }
}
