// What a plain-WebSocket endpoint is (contract section 7): its path, where its credentials come
// from, and how its frames map to `/user` requests and events. Everything else (requests, channels,
// limits, session control, delivery) is the realtime core's, reached through PlainConnection.
import type { IncomingMessage } from 'node:http';
import type { DomainError } from '../../errors/domain-error.js';
import type { ErrorCode } from '../../errors/error-codes.js';
import type { PlainMark } from '../realtime-handshake.js';
import type { AuthenticatedPrincipal, StreamFrame } from '../realtime.types.js';

/** The credentials of a connection, read from its upgrade request; `in-band`: its first frame. */
export type Credentials = { token?: string; apiKey?: string; since?: number } | 'in-band';

/** A message counted against the connection's rate limits: allowed, or refused with why. */
export type RateVerdict =
  | { ok: true }
  | {
      ok: false;
      code: Extract<ErrorCode, 'RATE_LIMIT_EXCEEDED' | 'SERVICE_UNAVAILABLE'>;
      message: string;
      retry_after: number;
    };

/** What a protocol may do with its connection. */
export interface PlainContext {
  /** The URL's query string (`token`, `since`, ...). */
  readonly query: URLSearchParams;
  /** Per-connection state of the protocol. */
  readonly state: Map<string, unknown>;
  readonly connected: boolean;
  /** Sends a frame (JSON) to the client. */
  sendFrame(frame: unknown): void;
  /**
   * Joins `/user` as a socket.io client's CONNECT would: with `auth` (credentials given in-band),
   * or with the credentials checked at the upgrade.
   */
  connect(
    auth?: Record<string, unknown>,
  ): Promise<{ ok: true; data: unknown } | { ok: false; data: { message: string; code: string } }>;
  /** A /user request with an ack; resolves to the answer (undefined if the connection went). */
  request(event: string, data: unknown): Promise<unknown>;
  /** Who the connection is, once connected to /user with credentials. */
  readonly principal: AuthenticatedPrincipal | undefined;
  /**
   * Counts a frame the protocol answers itself (a ping, a subscription) against the same limits
   * a request meets at socket.io's gate; requests are counted there, not here.
   */
  checkRate(): Promise<RateVerdict>;
  /** The close code the connection ends with when the server closes it. */
  setClose(code: number, reason: string): void;
  /** Closes the connection now with `code`. */
  end(code: number, reason: string): void;
}

export interface EndpointProtocol {
  /** The URL path it serves, e.g. `/cashier/svc/ws`. */
  readonly path: string;
  /** Where this endpoint's clients put their credentials. */
  credentials(req: IncomingMessage, query: URLSearchParams): Credentials;
  /** The user's internal streams the endpoint reads, and from where (the URL may say). */
  streams?(query: URLSearchParams): PlainMark['streams'];
  /** One connection per user on this endpoint: a new one replaces the older ones. */
  readonly single?: boolean;
  /**
   * Channel ids (payments, orders) are joined only by their owner, whatever CHANNEL_ID_AUTH says:
   * the endpoint's channels are all scoped to its user.
   */
  readonly ownChannelsOnly?: boolean;
  /**
   * Pushes that are not channel events reach a user's connections on this endpoint, on every
   * instance (seed 002's test notification): its connections join the user's room of the endpoint.
   */
  readonly addressed?: boolean;
  /** The connection is open: connect to /user with the credentials, or wait for them. */
  onOpen(ctx: PlainContext): void | Promise<void>;
  /** A JSON object from the client. */
  onFrame(ctx: PlainContext, frame: Record<string, unknown>): void | Promise<void>;
  /** An event for the client (`stream`, `connected`, `force_logout`, ...). */
  onEvent(ctx: PlainContext, event: string, payload: unknown): void;
  /**
   * The frame of a channel event, for an endpoint that sends every event the same way to each of
   * its connections (no filter, nothing of the connection in it). With it, PlainConnection translates
   * and encodes a channel event once for all the connections it reaches, not once per connection,
   * and `stream` events no longer come to onEvent.
   */
  readonly streamFrame?: (frame: StreamFrame) => unknown;
  /** A frame that is not JSON, not an object, or binary: the endpoint's error frame; the connection lives. */
  invalid(ctx: PlainContext, message: string): void;
  /** A frame refused before parsing (too deep, an inexact number, a NUL): the endpoint's error frame. */
  refused(ctx: PlainContext, refusal: DomainError): void;
}

/** Close codes, the same on every endpoint (contract section 7). */
export const CLOSE = {
  normal: 1000,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  restart: 1012,
  tooSlow: 1013,
  unauthorized: 4001,
  forcedLogout: 4003,
  noAuthentication: 4008,
  rateLimited: 4029,
} as const;

/**
 * The close code of a connection the server closes after telling it why (a socket.io control
 * event): an expired token, or a session its user logged out of, must not be retried (4001); an
 * administrator's forced logout or a replaced connection must not reconnect on its own (4003); a
 * restart should reconnect (1012).
 */
export function closeCodeFor(event: string, payload: unknown): number | undefined {
  if (event === 'request_reconnect') return CLOSE.restart;
  if (event !== 'force_logout') return undefined;
  const { reason, detail } = (payload ?? {}) as { reason?: string; detail?: string };
  if (reason === 'expired') return CLOSE.unauthorized;
  if (reason === 'revoked' && detail !== undefined && detail !== 'admin') return CLOSE.unauthorized;
  return CLOSE.forcedLogout;
}
