import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, UsePipes } from '@nestjs/common';
import { ApiError, type FieldProblem } from '../common/api-error.js';
import { PageQueryDto } from '../common/page-query.dto.js';
import { checkOriginPattern } from './allowed-origins.js';
import { validateDtos } from '../common/validation.pipe.js';
import { AccountsService } from './accounts.service.js';
import { CreateAccountDto, CreateClientDto } from './accounts.dto.js';
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

  /** `{"allowedOrigins": [...]}`: where browsers may send events with a client id alone. */
  @Put(':id/settings')
  @RequirePermission('manage-account', { accountParam: 'id', allowRoot: true })
  updateSettings(@Param('id') id: string, @Body() body: unknown) {
    const origins = (body as { allowedOrigins?: unknown } | null)?.allowedOrigins;
    if (typeof body !== 'object' || body === null || !Array.isArray(origins) || origins.length > 100) {
      throw ApiError.validation([{ field: 'allowedOrigins', message: 'must be an array of at most 100 origin patterns' }]);
    }
    const extra = Object.keys(body).filter((k) => k !== 'allowedOrigins');
    const problems: FieldProblem[] = extra.map((field) => ({ field, message: 'is not a known setting' }));
    origins.forEach((o, i) => {
      const problem = checkOriginPattern(o);
      if (problem) problems.push({ field: `allowedOrigins[${i}]`, message: problem });
    });
    if (problems.length > 0) throw ApiError.validation(problems);
    return this.accounts.updateSettings(id, { allowedOrigins: [...new Set(origins as string[])] });
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
