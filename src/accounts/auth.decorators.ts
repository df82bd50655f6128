import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Permission, Principal } from './account.types.js';

export const PERMISSION_KEY = 'auth:permission';

export interface PermissionRequirement {
  permission: Permission;
  /** The route parameter naming the account the call acts on (admins may only act on their own). */
  accountParam?: string;
  /** Also let the root key through (account management routes). */
  allowRoot?: boolean;
  /**
   * Also take the client secret from a `"writeKey"` field of the JSON body, when no credentials
   * came in headers (Segment's HTTP API, whose senders may put their write key there).
   */
  bodyWriteKey?: boolean;
}

/** Declares what a route needs from its caller; routes without it are public (health). */
export const RequirePermission = (permission: Permission, options: Omit<PermissionRequirement, 'permission'> = {}) =>
  SetMetadata(PERMISSION_KEY, { permission, ...options } satisfies PermissionRequirement);

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/** The authenticated caller, set by AuthGuard. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const request = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
  return request.principal!;
});

/** The account a client acts for (routes that only clients may call). */
export const CurrentAccountId = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (principal?.kind !== 'client') throw new Error('CurrentAccountId used on a route open to the root key');
  return principal.accountId;
});
