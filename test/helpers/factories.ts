import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { Client } from './http.js';

export const uniqueEmail = (tag = 'user') => `${tag}-${randomBytes(6).toString('hex')}@example.com`;

export const PASSWORD = 'correct horse battery';

export interface SignedIn {
  email: string;
  userId: string;
  channel: string;
  accessToken: string;
  refreshToken: string;
}

/** Signs a new user up and logs in. */
export async function signUpAndLogIn(api: Client, email = uniqueEmail()): Promise<SignedIn> {
  const signup = await api.post('/api/v1/auth/signup', { email, password: PASSWORD });
  expect(signup.status, JSON.stringify(signup.body)).toBe(201);
  const login = await api.post('/api/v1/auth/login', { email, password: PASSWORD });
  expect(login.status, JSON.stringify(login.body)).toBe(200);
  return {
    email,
    userId: login.body.user.id,
    channel: login.body.user.channel,
    accessToken: login.body.access_token,
    refreshToken: login.body.refresh_token,
  };
}
