import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { ApiError } from '../common/api-error.js';
import { PUBSUB, type PubSub, type Unsubscribe } from '../infrastructure/pubsub/pubsub.port.js';
import {
  type AccountDocument,
  type AccountSettings,
  CLIENT_TYPES,
  type ClientDocument,
  type ClientType,
  type Principal,
} from './account.types.js';
import { AccountsRepository } from './accounts.repository.js';
import { hashSecret, newClientSecret, sameHash } from './credentials.js';
import { RootKeyService } from './root-key.service.js';
import { originAllowed } from './allowed-origins.js';

export interface IssuedClient {
  clientId: string;
  clientSecret: string;
  type: ClientType;
}

export interface AccountView {
  id: string;
  name: string;
  createdAt: string;
  settings: AccountSettings;
  clients: { clientId: string; type: ClientType; createdAt: string }[];
}

const REVOKED_CHANNEL = 'auth.client-revoked';

declare module '../infrastructure/pubsub/pubsub.port.js' {
  interface PubSubChannels {
    /** A client was revoked: every replica drops the secret from its auth cache. */
    'auth.client-revoked': { secretHash: string };
  }
}

type CachedClient = Principal & { kind: 'client'; secretHash: string };

/**
 * Accounts (tenants) and their API clients. Authentication runs on every request, so resolved
 * clients are cached by secret hash; a revocation evicts the entry here and, over pub/sub, on
 * every other replica, so a revoked secret stops working at once.
 */
@Injectable()
export class AccountsService implements OnModuleInit, OnModuleDestroy {
  /**
   * Resolved clients keyed by the presented secret itself, so a repeat request costs one map
   * lookup instead of a SHA-256; entries expire after a minute and revocation evicts at once.
   */
  private readonly cache = new LRUCache<string, CachedClient>({ max: 10_000, ttl: 60_000 });
  private readonly origins = new LRUCache<string, { client: ClientDocument | null; patterns: string[] }>({ max: 10_000, ttl: 10_000 });
  private unsubscribe: Unsubscribe | null = null;

  constructor(
    private readonly repository: AccountsRepository,
    private readonly rootKey: RootKeyService,
    @Inject(PUBSUB) private readonly pubsub: PubSub,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.pubsub.subscribe(REVOKED_CHANNEL, (message) => {
      this.forget(message.secretHash);
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  async createAccount(name: string): Promise<{ id: string; name: string; clients: Record<ClientType, IssuedClient> }> {
    const account: AccountDocument = { _id: randomUUID(), name, createdAt: new Date().toISOString() };
    await this.repository.insertAccount(account);
    const clients = {} as Record<ClientType, IssuedClient>;
    for (const type of CLIENT_TYPES) clients[type] = await this.issueClient(account._id, type);
    return { id: account._id, name: account.name, clients };
  }

  async listAccounts(skip: number, limit: number): Promise<{ accounts: AccountView[]; total: number }> {
    const [accounts, total] = await Promise.all([
      this.repository.listAccounts(skip, limit),
      this.repository.countAccounts(),
    ]);
    const clients = await this.repository.listClients(accounts.map((a) => a._id));
    return { accounts: accounts.map((a) => toView(a, clients)), total };
  }

  async getAccount(accountId: string): Promise<AccountView> {
    const account = await this.repository.findAccount(accountId);
    if (!account) throw ApiError.notFound('account');
    return toView(account, await this.repository.listClients([accountId]));
  }

  async addClient(accountId: string, type: ClientType): Promise<IssuedClient> {
    if (!(await this.repository.findAccount(accountId))) throw ApiError.notFound('account');
    return this.issueClient(accountId, type);
  }

  async revokeClient(accountId: string, clientId: string): Promise<void> {
    const client = await this.repository.findClient(clientId);
    if (!client || client.accountId !== accountId) throw ApiError.notFound('client');
    await this.repository.deleteClient(accountId, clientId);
    this.forget(client.secretHash);
    await this.pubsub.publish(REVOKED_CHANNEL, { secretHash: client.secretHash });
  }

  async updateSettings(accountId: string, settings: AccountSettings): Promise<AccountView> {
    if (!(await this.repository.updateSettings(accountId, settings))) throw ApiError.notFound('account');
    this.origins.clear();
    return this.getAccount(accountId);
  }

  /**
   * A browser's client id without its secret: a write client whose account allows the request's
   * Origin. Cached for a few seconds per client, so a settings change reaches every replica soon.
   */
  async authenticateOrigin(clientId: string, origin: string | undefined): Promise<Principal | null> {
    let entry = this.origins.get(clientId);
    if (!entry) {
      const client = await this.repository.findClient(clientId);
      const account = client?.type === 'write' ? await this.repository.findAccount(client.accountId) : null;
      entry = client && account ? { client, patterns: account.settings?.allowedOrigins ?? [] } : { client: null, patterns: [] };
      this.origins.set(clientId, entry);
    }
    if (!entry.client) return null;
    if (!origin) {
      throw ApiError.unauthorized('a client id without its secret is accepted only from a browser page whose origin the account allows (send the secret from servers)');
    }
    if (!originAllowed(origin, entry.patterns)) {
      throw ApiError.unauthorized(
        `origin ${origin.slice(0, 200)} is not allowed for this client id; an admin adds it to allowedOrigins with PUT /api/accounts/${entry.client.accountId}/settings`,
      );
    }
    return { kind: 'client', accountId: entry.client.accountId, clientId: entry.client._id, type: entry.client.type };
  }

  /** Resolves `Authorization: Bearer <secret>`: the root key or a client secret. */
  async authenticateSecret(secret: string): Promise<Principal | null> {
    const cached = this.cache.get(secret);
    if (cached) return cached;
    const secretHash = hashSecret(secret);
    if (this.rootKey.matchesHash(secretHash)) return { kind: 'root' };
    const client = await this.repository.findClientBySecretHash(secretHash);
    return client ? this.remember(secret, client) : null;
  }

  /** The client as a principal while it exists (a live token names its client: revoking it ends the token's use too). */
  async clientPrincipal(clientId: string): Promise<Principal | null> {
    const client = await this.repository.findClient(clientId);
    return client ? { kind: 'client', accountId: client.accountId, clientId: client._id, type: client.type } : null;
  }

  /** Resolves the header pair x-client-id / x-client-secret. */
  async authenticatePair(clientId: string, secret: string): Promise<Principal | null> {
    const cached = this.cache.get(secret);
    if (cached) return cached.clientId === clientId ? cached : null;
    const client = await this.repository.findClient(clientId);
    if (!client || !sameHash(client.secretHash, hashSecret(secret))) return null;
    return this.remember(secret, client);
  }

  private remember(secret: string, client: ClientDocument): CachedClient {
    const principal: CachedClient = {
      kind: 'client',
      accountId: client.accountId,
      clientId: client._id,
      type: client.type,
      secretHash: client.secretHash,
    };
    this.cache.set(secret, principal);
    return principal;
  }

  /** Evicts a revoked client (rare, so a scan of the cache is fine). */
  private forget(secretHash: string): void {
    for (const [secret, principal] of this.cache.entries()) {
      if (principal.secretHash === secretHash) this.cache.delete(secret);
    }
  }

  private async issueClient(accountId: string, type: ClientType): Promise<IssuedClient> {
    const clientSecret = newClientSecret();
    const doc: ClientDocument = {
      _id: randomUUID(),
      accountId,
      type,
      secretHash: hashSecret(clientSecret),
      createdAt: new Date().toISOString(),
    };
    await this.repository.insertClient(doc);
    return { clientId: doc._id, clientSecret, type };
  }
}

function toView(account: AccountDocument, clients: ClientDocument[]): AccountView {
  return {
    id: account._id,
    name: account.name,
    createdAt: account.createdAt,
    settings: { allowedOrigins: account.settings?.allowedOrigins ?? [] },
    clients: clients
      .filter((c) => c.accountId === account._id)
      .map((c) => ({ clientId: c._id, type: c.type, createdAt: c.createdAt })),
  };
}
