import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError } from '../common/api-error.js';
import type { Principal } from './account.types.js';
import { AccountsService } from './accounts.service.js';
import { type AuthenticatedRequest, PERMISSION_KEY, type PermissionRequirement } from './auth.decorators.js';
import { authorize } from './authorization.js';

/** Header pairs that carry a client id and secret: ours, then Event Lens's and OpenPanel's SDKs'. */
const CLIENT_HEADER_PAIRS = [
  ['x-client-id', 'x-client-secret'],
  ['event-lens-client-id', 'event-lens-client-secret'],
  ['openpanel-client-id', 'openpanel-client-secret'],
] as const;

/**
 * Authenticates `Authorization: Bearer <secret>`, `Authorization: Basic base64("<secret>:")`
 * (the secret as the user name, as Segment's SDKs send their write key), a client id / secret
 * header pair, or, on routes that declare `bodyWriteKey`, a `"writeKey"` in the body; then
 * checks the route's declared permission.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly accounts: AccountsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const requirement = this.reflector.getAllAndOverride<PermissionRequirement | undefined>(PERMISSION_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!requirement) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    // The body's writeKey counts only where nothing came in headers: wrong header credentials stay a 401.
    const principal =
      requirement.bodyWriteKey && !hasHeaderCredentials(request) ? await this.fromBody(request) : await this.authenticate(request);
    if (!principal) throw ApiError.unauthorized();
    const params = request.params as Record<string, string> | undefined;
    authorize(principal, requirement.permission, {
      accountId: requirement.accountParam ? params?.[requirement.accountParam] : undefined,
      allowRoot: requirement.allowRoot,
    });
    request.principal = principal;
    return true;
  }

  private async authenticate(request: AuthenticatedRequest): Promise<Principal | null> {
    const authorization = request.headers.authorization;
    if (typeof authorization === 'string') {
      const basic = /^Basic\s+(\S+)\s*$/i.exec(authorization);
      if (basic) return this.accounts.authenticateSecret(basicUserName(basic[1]!));
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match) throw ApiError.unauthorized('Authorization must be "Bearer <secret>" or "Basic " + base64("<secret>:")');
      return this.accounts.authenticateSecret(match[1]!);
    }
    for (const [idHeader, secretHeader] of CLIENT_HEADER_PAIRS) {
      const clientId = request.headers[idHeader];
      const secret = request.headers[secretHeader];
      if (typeof clientId === 'string' && typeof secret === 'string') {
        return this.accounts.authenticatePair(clientId, secret);
      }
      // A browser cannot keep a secret: its client id counts from an origin the account allows.
      if (typeof clientId === 'string' && secret === undefined) {
        const origin = request.headers.origin;
        return this.accounts.authenticateOrigin(clientId, typeof origin === 'string' ? origin : undefined);
      }
    }
    return null;
  }

  /** The secret in the body's `"writeKey"`, on routes that allow it. */
  private async fromBody(request: AuthenticatedRequest): Promise<Principal | null> {
    const writeKey = (request.body as { writeKey?: unknown } | null | undefined)?.writeKey;
    if (writeKey === undefined) return null;
    if (typeof writeKey !== 'string' || writeKey.length === 0) throw ApiError.unauthorized('writeKey must be a non-empty string (a write client secret)');
    return this.accounts.authenticateSecret(writeKey);
  }
}

/** Whether the request names credentials in its headers (Authorization, or a client id header). */
function hasHeaderCredentials(request: AuthenticatedRequest): boolean {
  return request.headers.authorization !== undefined || CLIENT_HEADER_PAIRS.some(([id, secret]) => request.headers[id] !== undefined || request.headers[secret] !== undefined);
}

/** The user name of Basic credentials, `base64("<secret>:")`: the secret; the password is ignored. */
function basicUserName(encoded: string): string {
  const malformed = () => ApiError.unauthorized('Authorization "Basic" must be base64("<secret>:"): the client secret as the user name, an empty password');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw malformed();
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  if (user.length === 0) throw malformed();
  return user;
}
