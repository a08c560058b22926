export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Claims of an access token: `sub` user id, `sid` session id, `role`. */
export interface AccessTokenClaims {
  sub: string;
  sid: string;
  role: Role;
  iat: number;
  exp: number;
}

/** The authenticated principal attached to a request or socket. */
export interface AuthUser {
  id: string;
  sessionId: string;
  role: Role;
  /** Expiry of the access token that authenticated this principal (Unix seconds). */
  tokenExpiresAt: number;
}

export function isAccessTokenClaims(value: unknown): value is AccessTokenClaims {
  const v = value as Partial<AccessTokenClaims> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.sub === 'string' &&
    /^\d{1,19}$/.test(v.sub) &&
    typeof v.sid === 'string' &&
    typeof v.exp === 'number' &&
    (ROLES as readonly string[]).includes(v.role as string)
  );
}
