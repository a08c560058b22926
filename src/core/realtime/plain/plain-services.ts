// What a plain connection needs of the realtime core (PlainWebSockets provides it), and what it is
// told at its upgrade.
import type { Namespace } from 'socket.io';
import type { MessageVerdict } from '../realtime-limits.service.js';
import type { AuthenticatedPrincipal } from '../realtime.types.js';
import type { PlainConnection } from './plain-connection.js';

export type ConnectOutcome =
  { ok: true; data: { sid: string } } | { ok: false; data: { message: string; code: string } };

/** What a plain connection needs of the realtime core. */
export interface PlainServices {
  /** The `/user` namespace the connection joins. */
  readonly nsp: Namespace;
  /**
   * Admits the connection (credentials: `auth`, or those checked before the upgrade; the plan's
   * connection limit) and puts it in the namespace; a refusal is answered, not thrown.
   */
  connect(connection: PlainConnection, auth: Record<string, unknown> | undefined): Promise<ConnectOutcome>;
  /** Counts one message of a user against the per-minute and per-second windows (RealtimeLimits). */
  countMessage(principal: AuthenticatedPrincipal): Promise<MessageVerdict>;
  /** Messages per second a connection may send before it has authenticated. */
  readonly anonymousPerSecond: number;
  /** A connection's error (its socket's, or its endpoint's failing on a frame). */
  reportError(connection: PlainConnection, error: unknown): void;
}

/** What a connection is told at its upgrade and forgets once it is set up. */
export interface PlainOpening {
  /** The URL's query string. */
  query: URLSearchParams;
  /** Credentials read from the upgrade request and checked already. */
  principal?: AuthenticatedPrincipal;
  /** The user channel's seq to replay from (socket.io's `auth.since`). */
  since?: number;
}
