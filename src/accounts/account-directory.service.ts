import { Injectable } from '@nestjs/common';
import { AccountsRepository } from './accounts.repository.js';

/**
 * Whether an account exists, for processes that serve no API (a worker consuming a stream for a
 * configured account): the accounts' store without the API, the root key or the auth guard.
 */
@Injectable()
export class AccountDirectoryService {
  constructor(private readonly repository: AccountsRepository) {}

  async exists(accountId: string): Promise<boolean> {
    return (await this.repository.findAccount(accountId)) !== null;
  }
}
