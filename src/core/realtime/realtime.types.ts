// Names and shapes shared by the realtime core: namespaces, channels, rooms, frames, principals.
import type { DefaultEventsMap, Socket } from 'socket.io';

export const SOCKET_PATH = '/ws/socket.io';
export const USER_NAMESPACE = '/user';
export const PUBLIC_NAMESPACE = '/public';
export const SETTINGS_CHANNEL = 'settings';
export const PUBLIC_CHANNELS = ['trade', 'ticker', 'market-depth'] as const;

/** Whether `channel` is a public market channel (`trade`, `ticker:BTC-EUR`, ...): a room broadcast on /public. */
export function isPublicChannel(channel: string): boolean {
  const colon = channel.indexOf(':');
  const base = colon === -1 ? channel : channel.slice(0, colon);
  return (PUBLIC_CHANNELS as readonly string[]).includes(base);
}

/**
 * The events that can be published on durable channels, with their payloads. Feature modules add
 * theirs by declaration merging:
 *
 *   declare module '../../core/realtime/realtime.types.js' {
 *     interface RealtimeEventMap { balance: BalancePayload }
 *   }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- extended by declaration merging
export interface RealtimeEventMap {}

export type RealtimeEvent = Extract<keyof RealtimeEventMap, string>;

/** What a client receives as `stream`: `event` and `payload` as in seed 004, plus ordering. */
export interface StreamFrame {
  event: string;
  channel: string;
  /** 1, 2, 3... per channel, no gaps on durable channels. */
  seq: number;
  /** When the change was committed (ISO-8601 UTC). */
  timestamp: string;
  payload: unknown;
}

/**
 * Control messages of `/user` and `/public` (contract section 4): their own socket.io events, not
 * channel events, so not stored and without seq.
 */
export interface ControlEventMap {
  /** First on every socket; `seq`/`reset` say where the user channel stands (with `auth.since`). */
  connected: { user_id: string | null; channel: string | null; timestamp: number; seq?: number; reset?: boolean };
  /** The socket is closed next and must not reconnect with the same credential. */
  force_logout: { reason: string; detail?: string };
  /** Sent 60 s before the access token expires: send `refresh {access_token}` to continue. */
  auth_expiring: { expires_in: number };
  /** This instance is shutting down: reconnect (to another one) and resume with `since`. */
  request_reconnect: { reason: string };
}

/** Who is on the other end of a socket. */
export type Principal =
  | {
      kind: 'user';
      userId: string;
      /** The user's private channel id. */
      channel: string;
      plan: string;
      role: 'user' | 'admin';
      sessionId: string;
      /** Access-token expiry, Unix seconds. */
      tokenExpiresAt: number;
    }
  | { kind: 'api_key'; userId: string; channel: string; plan: string; role: 'user'; apiKeyId: string }
  | { kind: 'anonymous' };

export type AuthenticatedPrincipal = Exclude<Principal, { kind: 'anonymous' }>;

/** Data kept on each socket (`socket.data`); plain values only, since other instances read it. */
export interface SocketData {
  principal: Principal;
  /** Unix milliseconds (a number is lighter than a string on every socket). */
  connectedAt: number;
  instance: string;
  /** Order of connection among the user's sockets (SINGLE_SOCKET_PER_USER keeps the newest). */
  generation?: number;
  /** The plain-WebSocket endpoint the connection came through (contract section 7); absent: socket.io. */
  endpoint?: string;
}

/** A socket of /user, with its data typed. */
export type UserSocket = Socket<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, SocketData>;

/**
 * The internal room of a user's authenticated sockets (to reach them by user, session or key). It
 * starts with '@', which no channel id can, so a client can never join it.
 */
export const rooms = {
  user: (userId: string) => `@user:${userId}`,
  /** A user's connections on one plain-WebSocket endpoint (seed 002's test push reaches only those). */
  endpoint: (endpoint: string, userId: string) => `@endpoint:${endpoint}:${userId}`,
};

/**
 * A user's internal streams: outbox channels that carry what the plain-WebSocket endpoints need
 * beyond the user channel (contract section 7): `payments`, every status change of the user's
 * deposits and withdrawals (the `payment` event seed 004 puts only on each payment's channel);
 * `verifications`, each verification attempt and its outcome. No client can join one by name (no
 * channel id starts with '~'); a plain connection is joined to those its endpoint reads.
 */
export type InternalStream = 'payments' | 'verifications';
export const internalStream = (name: InternalStream, userId: string): string => `~${name}:${userId}`;

export function isAuthenticated(principal: Principal): principal is AuthenticatedPrincipal {
  return principal.kind !== 'anonymous';
}

/** The session a principal's connections belong to: its login session, or its API key. */
export function sessionKeyOf(principal: AuthenticatedPrincipal): string {
  return principal.kind === 'user' ? principal.sessionId : `api-key:${principal.apiKeyId}`;
}

/** Tells a socket `force_logout` (with why) and closes it; a closed socket is left alone. */
export function forceLogout(socket: Socket, reason: string, detail?: string): void {
  if (socket.disconnected) return;
  socket.emit('force_logout', (detail ? { reason, detail } : { reason }) satisfies ControlEventMap['force_logout']);
  socket.disconnect(true);
}
