import { Controller, Get, Param, Query, UsePipes } from '@nestjs/common';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { CurrentAccountId, RequirePermission } from '../accounts/auth.decorators.js';
import { PageQueryDto } from '../common/page-query.dto.js';
import { validateDtos } from '../common/validation.pipe.js';
import { ProfilesService } from './profiles.service.js';

export class ProfilesQueryDto extends PageQueryDto {
  @IsOptional()
  @IsString()
  @MaxLength(200)
  search?: string;
}

/** Profiles built from identify / increment / decrement / alias events; read and admin clients. */
@Controller('api/profiles')
export class ProfilesController {
  constructor(private readonly profiles: ProfilesService) {}

  @Get()
  @RequirePermission('query')
  @UsePipes(validateDtos)
  list(@CurrentAccountId() accountId: string, @Query() q: ProfilesQueryDto) {
    return this.profiles.list(accountId, q.search, q.offset ?? 0, q.limit ?? 50);
  }

  @Get(':id')
  @RequirePermission('query')
  get(@CurrentAccountId() accountId: string, @Param('id') id: string) {
    return this.profiles.get(accountId, id);
  }
}
