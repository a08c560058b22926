// Small pieces every plain-WebSocket protocol uses.
import type { IncomingMessage } from 'node:http';
import type { Credentials } from './plain-protocol.js';

export const unixNow = (): number => Math.floor(Date.now() / 1000);

/** The bearer token of an Authorization header, if there is one. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  return typeof header === 'string' && /^Bearer\s+\S+$/i.test(header) ? header.split(/\s+/)[1] : undefined;
}

/** `?since=` of the URL (the user channel's last seq the client holds), when it is one. */
export function sinceOf(query: URLSearchParams): number | undefined {
  const since = query.get('since');
  return since !== null && /^\d{1,15}$/.test(since) ? Number(since) : undefined;
}

export function credentialsOf(token: string | undefined, apiKey: string | undefined, since?: number): Credentials {
  return {
    ...(token !== undefined ? { token } : {}),
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(since !== undefined ? { since } : {}),
  };
}

/** A request type as a protocol may forward it: lower-case words, as every type of the contract. */
export function requestTypeOf(value: unknown): string | undefined {
  return typeof value === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(value) ? value : undefined;
}

/** Names socket.io gives meaning to: never forwarded as requests. */
export const RESERVED_TYPES = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newlistener',
  'removelistener',
  'channel',
  'leave',
]);
