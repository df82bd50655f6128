import { Module } from '@nestjs/common';
import { AccountDirectoryService } from './account-directory.service.js';
import { AccountsRepository } from './accounts.repository.js';

/** AccountDirectoryService, importable in every role (AccountsModule brings the API and the auth guard). */
@Module({
  providers: [AccountsRepository, AccountDirectoryService],
  exports: [AccountDirectoryService],
})
export class AccountDirectoryModule {}
