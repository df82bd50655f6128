import { Body, Controller, HttpCode, Post, UsePipes } from '@nestjs/common';
import { IsOptional } from 'class-validator';
import type { Principal } from '../accounts/account.types.js';
import { CurrentPrincipal, RequirePermission } from '../accounts/auth.decorators.js';
import { validateDtos } from '../common/validation.pipe.js';
import { WholeNumber } from '../common/whole-number.decorator.js';
import { LiveAuthService } from './live-auth.service.js';

export class LiveTokenDto {
  /** Seconds the token opens sockets for (default LIVE_TOKEN_TTL, 300). */
  @IsOptional() @WholeNumber(10, 3600) ttlSeconds?: number;
}

/** `POST /api/live/tokens`: a read or admin credential in, a short-lived token for `?token=` out. */
@Controller('api/live')
@UsePipes(validateDtos)
export class LiveTokensController {
  constructor(private readonly auth: LiveAuthService) {}

  @Post('tokens')
  @HttpCode(201)
  @RequirePermission('query')
  issue(@CurrentPrincipal() principal: Principal, @Body() body: LiveTokenDto) {
    return this.auth.issue(principal, body?.ttlSeconds);
  }
}
