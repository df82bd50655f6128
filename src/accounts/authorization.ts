import { ApiError } from '../common/api-error.js';
import { PERMISSIONS, type Permission, type Principal } from './account.types.js';

const WHAT_A_CLIENT_MAY_DO: Record<string, string> = {
  write: 'write clients may only ingest events',
  read: 'read clients may only query',
  admin: 'admin clients may manage their account and query, not ingest',
};

/**
 * The one place that decides whether a caller may do something. `accountId` is the account the
 * call acts on, when it names one: a client of another account gets 404, never a hint that the
 * account exists.
 */
export function authorize(
  principal: Principal,
  permission: Permission,
  options: { accountId?: string; allowRoot?: boolean } = {},
): void {
  if (principal.kind === 'root') {
    if (permission === 'root' || options.allowRoot) return;
    throw ApiError.forbidden('the root key only manages accounts; use a client of the account');
  }
  if (permission === 'root') throw ApiError.forbidden('this needs the root key');
  if (!PERMISSIONS[principal.type].includes(permission)) {
    throw ApiError.forbidden(WHAT_A_CLIENT_MAY_DO[principal.type] ?? 'not allowed');
  }
  if (options.accountId !== undefined && options.accountId !== principal.accountId) {
    throw ApiError.notFound('account');
  }
}
