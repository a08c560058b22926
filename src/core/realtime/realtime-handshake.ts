// The handshake, as namespace middleware (it runs before the connection exists): origin,
// credentials (token from auth.token, query `token` or `Authorization: Bearer`; or auth.apiKey),
// receive-only sockets, and the plan's connection limit. A refusal is a connect_error whose data
// has the shape of seed 001: {status_code, message, code, trace_id, data}.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Injectable, Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { AccessTokenService } from '../auth/access-token.service.js';
import { SessionService } from '../auth/session.service.js';
import { AppConfig } from '../config/app-config.js';
import { asUnavailable } from '../errors/dependency-errors.js';
import { DomainError } from '../errors/domain-error.js';
import { ERROR_STATUS, type ErrorCode } from '../errors/error-codes.js';
import { RealtimeDirectory } from './realtime-directory.js';
import { RealtimeLimits } from './realtime-limits.service.js';
import { RealtimeMetrics } from './realtime.metrics.js';
import {
  isAuthenticated,
  type AuthenticatedPrincipal,
  type InternalStream,
  type Principal,
  type SocketData,
} from './realtime.types.js';

type Middleware = (socket: Socket, next: (error?: Error) => void) => void;

/** What authentication reads of a handshake (socket.io's, or a plain WebSocket's credentials). */
interface HandshakeInput {
  auth?: Record<string, unknown>;
  query?: Record<string, unknown>;
  headers: Record<string, unknown>;
}

/** Where a plain WebSocket connection (plain/plain-connection.ts) carries what its endpoint asks. */
export const PLAIN_ENDPOINT = Symbol('realtime:plain-endpoint');

/** What a plain-WebSocket endpoint asks of the connections it opens. */
export interface PlainMark {
  /** Its path, shown in the admin diagnostics. */
  endpoint: string;
  /** The user's internal streams it reads, each from a seq (replay) or from now. */
  streams: readonly { name: InternalStream; since?: number }[];
  /** Where `settings` is read from (the seq it stood at when the connection was let in). */
  settingsSince?: number;
  /** One connection per user on this endpoint: a new one replaces the older ones, on every instance. */
  single: boolean;
  /** Only the user's own channel ids may be joined, even when CHANNEL_ID_AUTH lets ids be bearer secrets. */
  ownChannelsOnly?: boolean;
  /** A user's connections on this endpoint are reached as a group (RealtimeConnections.emitToEndpoint). */
  addressed?: boolean;
}

/** What a plain WebSocket's endpoint asks of `socket`; undefined for a socket.io socket. */
export const plainMarkOf = (socket: unknown): PlainMark | undefined =>
  (socket as { [PLAIN_ENDPOINT]?: PlainMark } | undefined)?.[PLAIN_ENDPOINT];

export class HandshakeRefusal extends Error {
  readonly data: { status_code: number; message: string; code: ErrorCode; trace_id: string; data: null };

  constructor(code: ErrorCode, message: string) {
    const status = ERROR_STATUS[code];
    super(status === 401 ? 'unauthorized' : code.toLowerCase());
    this.data = { status_code: status, message, code, trace_id: randomBytes(8).toString('hex'), data: null };
  }
}

const invalidToken = () => new HandshakeRefusal('UNAUTHORIZED', 'Invalid or expired token');
const invalidApiKey = () => new HandshakeRefusal('UNAUTHORIZED', 'Invalid API key');

function bearerOf(header: unknown): string | undefined {
  return typeof header === 'string' && /^Bearer\s+\S+$/i.test(header) ? header.split(/\s+/)[1] : undefined;
}

const NO_AUTH: Record<string, unknown> = Object.freeze({});

/**
 * Once checked, credentials leave the socket: they are not kept in memory for its lifetime, and
 * other instances reading it (fetchSockets over Redis) never see them.
 */
function scrubCredentials(socket: Socket): void {
  const { auth, query, headers } = socket.handshake as {
    auth?: Record<string, unknown>;
    query?: Record<string, unknown>;
    headers: Record<string, unknown>;
  };
  // A fresh object rather than `delete`, which would leave a slower, larger dictionary behind.
  (socket.handshake as { auth: Record<string, unknown> }).auth =
    auth?.since === undefined ? NO_AUTH : { since: auth.since };
  if (query && 'token' in query) delete query.token;
  if ('authorization' in headers) delete headers.authorization;
  if ('cookie' in headers) delete headers.cookie;
}

@Injectable()
export class RealtimeHandshake {
  private readonly logger = new Logger(RealtimeHandshake.name);
  readonly instance = `${hostname()}:${process.pid}`;

  constructor(
    private readonly config: AppConfig,
    private readonly tokens: AccessTokenService,
    private readonly sessions: SessionService,
    private readonly directory: RealtimeDirectory,
    private readonly limits: RealtimeLimits,
    private readonly metrics: RealtimeMetrics,
  ) {}

  /**
   * Before a plain WebSocket upgrades (contract section 7): the origin, and credentials if the
   * endpoint takes them from the upgrade request, with room under the plan for one more
   * connection. Throws the HandshakeRefusal its HTTP answer is made of.
   */
  async preflight(
    headers: Record<string, unknown>,
    credentials: Record<string, unknown> | undefined,
    draining: boolean,
  ): Promise<Principal | undefined> {
    try {
      this.checkOrigin(headers.origin, draining);
      if (!credentials) return undefined;
      const principal = await this.authenticate({ auth: credentials, headers: {} });
      if (!isAuthenticated(principal)) throw new HandshakeRefusal('UNAUTHORIZED', 'credentials are required');
      if (
        !this.config.env.SINGLE_SOCKET_PER_USER &&
        !(await this.limits.hasRoomFor(principal.userId, principal.plan))
      ) {
        throw this.overLimit(principal.plan);
      }
      return principal;
    } catch (error) {
      const refusal = this.asRefusal(error);
      this.metrics.refused.inc({ code: refusal.data.code });
      throw refusal;
    }
  }

  /** Middleware for /user: who is connecting, and may they. */
  forUsers(isDraining: () => boolean): Middleware {
    return this.middleware(async (socket) => {
      this.checkOpen(socket, isDraining());
      const principal = await this.authenticate(socket.handshake);
      if (!isAuthenticated(principal) && !this.config.env.CHANNEL_ID_AUTH) {
        throw new HandshakeRefusal('UNAUTHORIZED', 'credentials are required');
      }
      scrubCredentials(socket);
      const data: SocketData = { principal, connectedAt: Date.now(), instance: this.instance };
      if (isAuthenticated(principal)) {
        data.generation = await this.admit(socket.id, principal.userId, principal.plan);
      }
      socket.data = data;
    });
  }

  /**
   * What the /user middleware does, for a plain WebSocket connection (plain-websockets.ts), which
   * socket.io never sees: its credentials (`principal` when they were checked before the upgrade,
   * else `auth`, given in-band), and its count under the plan. Throws a HandshakeRefusal.
   */
  async admitPlain(
    socketId: string,
    credentials: { principal?: AuthenticatedPrincipal; auth?: Record<string, unknown> },
    mark: PlainMark,
    draining: boolean,
  ): Promise<SocketData> {
    try {
      if (draining) throw new HandshakeRefusal('SERVICE_UNAVAILABLE', 'server is shutting down');
      const principal = credentials.principal ?? (await this.authenticate({ auth: credentials.auth, headers: {} }));
      if (!isAuthenticated(principal)) throw new HandshakeRefusal('UNAUTHORIZED', 'credentials are required');
      const generation = await this.admit(socketId, principal.userId, principal.plan, mark);
      return {
        principal,
        connectedAt: Date.now(),
        instance: this.instance,
        endpoint: mark.endpoint,
        ...(generation !== undefined ? { generation } : {}),
      };
    } catch (error) {
      const refusal = this.asRefusal(error);
      this.metrics.refused.inc({ code: refusal.data.code });
      throw refusal;
    }
  }

  /** Middleware for /public: anyone may listen. */
  forPublic(isDraining: () => boolean): Middleware {
    return this.middleware((socket) => {
      this.checkOpen(socket, isDraining());
      socket.data = {
        principal: { kind: 'anonymous' },
        connectedAt: Date.now(),
        instance: this.instance,
      };
      return Promise.resolve();
    });
  }

  private middleware(check: (socket: Socket) => Promise<void>): Middleware {
    return (socket, next) => {
      // Through a promise, so a check that throws synchronously is answered like one that rejects.
      Promise.resolve(socket)
        .then(check)
        .then(
          () => next(),
          (error: unknown) => {
            const refusal = this.asRefusal(error);
            this.metrics.refused.inc({ code: refusal.data.code });
            next(refusal);
          },
        );
    };
  }

  private checkOpen(socket: Socket, draining: boolean): void {
    this.checkOrigin(socket.handshake.headers.origin, draining);
  }

  private checkOrigin(origin: unknown, draining: boolean): void {
    if (draining) throw new HandshakeRefusal('SERVICE_UNAVAILABLE', 'server is shutting down');
    const allowed = this.config.env.ALLOWED_ORIGINS;
    if (origin !== undefined && allowed.length > 0 && !allowed.includes('*') && !allowed.includes(origin as string)) {
      throw new HandshakeRefusal('FORBIDDEN', 'origin not allowed');
    }
  }

  private async authenticate({ auth, query, headers }: HandshakeInput): Promise<Principal> {
    if (auth?.since !== undefined && !(Number.isSafeInteger(auth.since) && (auth.since as number) >= 0)) {
      throw new HandshakeRefusal('VALIDATION_FAILED', 'auth.since must be a non-negative integer');
    }
    const token = auth?.token ?? query?.token ?? bearerOf(headers.authorization);
    if (token !== undefined) {
      if (typeof token !== 'string' || token.length > 4096) throw invalidToken();
      const claims = await this.tokens.verify(token);
      if (!claims || !(await this.sessions.isActive(claims.sid, claims.sub))) throw invalidToken();
      const profile = await this.directory.findUser(claims.sub);
      if (!profile || profile.state !== 'active') throw invalidToken();
      return {
        kind: 'user',
        userId: claims.sub,
        channel: profile.channel,
        plan: this.sharedPlanName(profile.plan),
        role: claims.role === 'admin' ? 'admin' : 'user',
        sessionId: claims.sid,
        tokenExpiresAt: claims.exp,
      };
    }
    if (auth?.apiKey !== undefined) {
      if (typeof auth.apiKey !== 'string' || auth.apiKey.length > 256) throw invalidApiKey();
      const identity = await this.directory.authenticateApiKey(auth.apiKey);
      const profile = identity && (await this.directory.findUser(identity.userId));
      if (!identity || !profile || profile.state !== 'active') throw invalidApiKey();
      const { keyId, userId, plan } = identity;
      const shared = this.sharedPlanName(plan);
      return { kind: 'api_key', userId, channel: profile.channel, plan: shared, role: 'user', apiKeyId: keyId };
    }
    return { kind: 'anonymous' };
  }

  /** The configuration's own string for a plan name, so sockets share one copy instead of each its own. */
  private sharedPlanName(plan: string): string {
    for (const name of this.config.business.plans.keys()) if (name === plan) return name;
    return plan;
  }

  /**
   * Counts the connection against the plan. With SINGLE_SOCKET_PER_USER there is no refusal: the
   * connection gets the next generation number and older ones are replaced once it is connected.
   * An endpoint with one connection per user numbers its connections apart from the others
   * (the user's generation on that endpoint) and is counted against the plan like any other.
   */
  private async admit(socketId: string, userId: string, plan: string, mark?: PlainMark): Promise<number | undefined> {
    if (this.config.env.SINGLE_SOCKET_PER_USER) {
      const generation = await this.limits.nextGeneration(userId);
      await this.limits.registerConnection(userId, socketId);
      return generation;
    }
    if (!(await this.limits.admitConnection(userId, socketId, plan))) throw this.overLimit(plan);
    return mark?.single ? this.limits.nextGeneration(userId, mark.endpoint) : undefined;
  }

  private overLimit(plan: string): HandshakeRefusal {
    const allowed = this.limits.planLimits(plan).maxConnections;
    return new HandshakeRefusal(
      'CONNECTION_LIMIT',
      `connection limit reached: the ${plan} plan allows ${allowed} connections`,
    );
  }

  private asRefusal(error: unknown): HandshakeRefusal {
    if (error instanceof HandshakeRefusal) return error;
    if (error instanceof DomainError) return new HandshakeRefusal(error.code, error.message);
    const unavailable = asUnavailable(error);
    if (unavailable) {
      this.logger.warn({ err: error }, 'handshake failed: a dependency is unavailable');
      return new HandshakeRefusal(unavailable.code, unavailable.message);
    }
    this.logger.error({ err: error }, 'handshake failed');
    return new HandshakeRefusal('INTERNAL', 'internal error');
  }
}
