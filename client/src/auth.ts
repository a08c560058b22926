// The REST calls a client needs around the socket (contract section 2): sign up, log in, refresh.
import type { TokenPair, UserView } from './contract.js';
import { CashierError } from './errors.js';

async function post<T>(url: string, path: string, body: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${url.replace(/\/$/, '')}/api/v1${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  const parsed = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const code = typeof parsed.code === 'string' ? parsed.code : response.status === 401 ? 'UNAUTHORIZED' : 'INTERNAL';
    const message = typeof parsed.message === 'string' ? parsed.message : `HTTP ${response.status}`;
    const field = typeof parsed.field === 'string' ? parsed.field : undefined;
    throw new CashierError(code as CashierError['code'], message, { field, details: parsed });
  }
  return parsed as T;
}

export type Login = TokenPair & { user: UserView };

export async function signUp(
  url: string,
  account: { email: string; password: string; name?: string; phone?: string },
): Promise<UserView> {
  return (await post<{ user: UserView }>(url, '/auth/signup', account)).user;
}

export function logIn(url: string, credentials: { email: string; password: string }): Promise<Login> {
  return post<Login>(url, '/auth/login', credentials);
}

/** A new token pair; the refresh token given stops working. */
export function refreshTokens(url: string, refreshToken: string): Promise<TokenPair> {
  return post<TokenPair>(url, '/auth/refresh', { refresh_token: refreshToken });
}

export async function logOut(url: string, accessToken: string): Promise<void> {
  await post(url, '/auth/logout', {}, accessToken);
}

/**
 * The `token` and `getToken` of a logged-in session for CashierClient: each call of `getToken`
 * rotates the refresh token (concurrent calls share one rotation).
 */
export function sessionTokens(url: string, login: TokenPair): { token: string; getToken: () => Promise<string> } {
  let refreshToken = login.refresh_token;
  let pending: Promise<string> | undefined;
  const getToken = () =>
    (pending ??= refreshTokens(url, refreshToken)
      .then((pair) => {
        refreshToken = pair.refresh_token;
        return pair.access_token;
      })
      .finally(() => {
        pending = undefined;
      }));
  return { token: login.access_token, getToken };
}
