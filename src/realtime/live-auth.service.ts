import type { IncomingMessage } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '../accounts/account.types.js';
import { AccountsService } from '../accounts/accounts.service.js';
import { authorize } from '../accounts/authorization.js';
import { ApiError } from '../common/api-error.js';
import { SigningService } from '../common/signing/signing.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { CLOSE_CODES } from './live-protocol.js';

/** The purpose a live token's payload names (one signing key serves every purpose). */
const LIVE_PURPOSE = 'live';

export type LiveAuth = { ok: true; accountId: string; clientId: string } | { ok: false; code: number; reason: string };

/**
 * Who opens a live socket. Browsers cannot set headers and a long-lived secret in a URL ends up
 * in proxy logs, so a browser first trades its read credential for a short-lived signed token
 * (`POST /api/live/tokens`) and opens `?token=`; servers may send `Authorization: Bearer
 * <secret>` instead. A token names its account and client; a client revoked since is refused.
 */
@Injectable()
export class LiveAuthService {
  constructor(
    private readonly accounts: AccountsService,
    private readonly signing: SigningService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  issue(principal: Principal, ttlSeconds = this.config.live.tokenTtlSeconds): { token: string; expiresAt: string; accountId: string } {
    if (principal.kind !== 'client') throw ApiError.forbidden('live tokens are for a client of the account, not the root key');
    const token = this.signing.sign({ purpose: LIVE_PURPOSE, account: principal.accountId, client: principal.clientId }, ttlSeconds);
    return { token, expiresAt: new Date(Date.now() + ttlSeconds * 1000).toISOString(), accountId: principal.accountId };
  }

  async authenticate(request: IncomingMessage): Promise<LiveAuth> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const token = url.searchParams.get('token');
    const header = request.headers.authorization;
    const bearer = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
    let principal: Principal | null = null;
    if (token) {
      const payload = this.signing.verify<{ purpose: string; account: string; client: string }>(token);
      if (!payload || payload.purpose !== LIVE_PURPOSE) return { ok: false, code: CLOSE_CODES.unauthorized, reason: 'invalid or expired live token: get a new one from POST /api/live/tokens' };
      principal = await this.accounts.clientPrincipal(payload.client);
      if (!principal || principal.kind !== 'client' || principal.accountId !== payload.account) return { ok: false, code: CLOSE_CODES.unauthorized, reason: 'the client of this live token was revoked' };
    } else if (bearer) {
      principal = await this.accounts.authenticateSecret(bearer);
      if (!principal) return { ok: false, code: CLOSE_CODES.unauthorized, reason: 'invalid credentials' };
    } else {
      return { ok: false, code: CLOSE_CODES.unauthorized, reason: 'missing credentials: open with ?token= (POST /api/live/tokens) or Authorization: Bearer <read secret>' };
    }
    try {
      authorize(principal, 'query');
    } catch (err) {
      return { ok: false, code: CLOSE_CODES.forbidden, reason: err instanceof ApiError ? err.message : 'forbidden' };
    }
    if (principal.kind !== 'client') return { ok: false, code: CLOSE_CODES.forbidden, reason: 'use a client of the account' };
    return { ok: true, accountId: principal.accountId, clientId: principal.clientId };
  }
}
