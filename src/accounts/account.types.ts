export const CLIENT_TYPES = ['write', 'read', 'admin'] as const;
export type ClientType = (typeof CLIENT_TYPES)[number];

export interface AccountSettings {
  /** Origins browsers may send events from with a client id alone (see allowed-origins.ts). */
  allowedOrigins: string[];
}

export interface AccountDocument {
  _id: string;
  name: string;
  createdAt: string;
  settings?: AccountSettings;
}

export interface ClientDocument {
  _id: string;
  accountId: string;
  type: ClientType;
  secretHash: string;
  createdAt: string;
}

/** Who is calling: the root key, or one client of one account. */
export type Principal =
  | { kind: 'root' }
  | { kind: 'client'; accountId: string; clientId: string; type: ClientType };

/** What an endpoint needs from its caller. */
export type Permission = 'ingest' | 'query' | 'manage-account' | 'root';

/** Which client types hold which permission (root holds only account management). */
export const PERMISSIONS: Record<ClientType, readonly Permission[]> = {
  write: ['ingest'],
  read: ['query'],
  admin: ['query', 'manage-account'],
};
