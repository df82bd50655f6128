import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UsePipes } from '@nestjs/common';
import { validateDtos } from '../common/validation.pipe.js';
import { AccountsService } from './accounts.service.js';
import { CreateAccountDto, CreateClientDto, PageQueryDto } from './accounts.dto.js';
import { RequirePermission } from './auth.decorators.js';

@Controller('api/accounts')
@UsePipes(validateDtos)
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post()
  @RequirePermission('root')
  create(@Body() body: CreateAccountDto) {
    return this.accounts.createAccount(body.name.trim());
  }

  @Get()
  @RequirePermission('root')
  async list(@Query() query: PageQueryDto) {
    const limit = query.limit ?? 100;
    const offset = query.offset ?? 0;
    const { accounts, total } = await this.accounts.listAccounts(offset, limit);
    return { accounts, total, limit, offset };
  }

  @Get(':id')
  @RequirePermission('manage-account', { accountParam: 'id', allowRoot: true })
  get(@Param('id') id: string) {
    return this.accounts.getAccount(id);
  }

  @Post(':id/clients')
  @RequirePermission('manage-account', { accountParam: 'id', allowRoot: true })
  addClient(@Param('id') id: string, @Body() body: CreateClientDto) {
    return this.accounts.addClient(id, body.type);
  }

  @Delete(':id/clients/:clientId')
  @HttpCode(204)
  @RequirePermission('manage-account', { accountParam: 'id', allowRoot: true })
  async revokeClient(@Param('id') id: string, @Param('clientId') clientId: string): Promise<void> {
    await this.accounts.revokeClient(id, clientId);
  }
}
