import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import {
  DOCUMENT_STORE,
  type DocumentCollection,
  type DocumentStore,
} from '../infrastructure/documents/documents.port.js';
import type { AccountDocument, AccountSettings, ClientDocument } from './account.types.js';

/** Accounts and their API clients in the documents store. */
@Injectable()
export class AccountsRepository implements OnModuleInit {
  private accounts!: DocumentCollection<AccountDocument>;
  private clients!: DocumentCollection<ClientDocument>;

  constructor(@Inject(DOCUMENT_STORE) private readonly store: DocumentStore) {}

  async onModuleInit(): Promise<void> {
    this.accounts = await this.store.collection<AccountDocument>('accounts');
    this.clients = await this.store.collection<ClientDocument>('clients');
    await this.clients.ensureIndex('secretHash', { unique: true });
    await this.clients.ensureIndex('accountId');
  }

  insertAccount(doc: AccountDocument): Promise<AccountDocument> {
    return this.accounts.insert(doc);
  }

  async updateSettings(id: string, settings: AccountSettings): Promise<boolean> {
    return (await this.accounts.update({ _id: id }, { $set: { settings } })) > 0;
  }

  findAccount(id: string): Promise<AccountDocument | null> {
    return this.accounts.findOne({ _id: id });
  }

  listAccounts(skip: number, limit: number): Promise<AccountDocument[]> {
    return this.accounts.find({}, { sort: { createdAt: 1 }, skip, limit });
  }

  countAccounts(): Promise<number> {
    return this.accounts.count({});
  }

  insertClient(doc: ClientDocument): Promise<ClientDocument> {
    return this.clients.insert(doc);
  }

  findClientBySecretHash(secretHash: string): Promise<ClientDocument | null> {
    return this.clients.findOne({ secretHash });
  }

  findClient(clientId: string): Promise<ClientDocument | null> {
    return this.clients.findOne({ _id: clientId });
  }

  listClients(accountIds: string[]): Promise<ClientDocument[]> {
    return this.clients.find({ accountId: { $in: accountIds } }, { sort: { createdAt: 1 } });
  }

  async deleteClient(accountId: string, clientId: string): Promise<boolean> {
    return (await this.clients.remove({ _id: clientId, accountId })) > 0;
  }
}
