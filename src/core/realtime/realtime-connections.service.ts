// The life of a socket on this instance once the handshake let it in: joining the user's
// channels, token expiry and refresh, revocations and replacements coming from any instance (over
// Redis), counting it against the plan while it lives, and the goodbye on shutdown.
import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { DefaultEventsMap, Namespace, Socket } from 'socket.io';
import { AppConfig } from '../config/app-config.js';
import { AccessTokenService } from '../auth/access-token.service.js';
import { revocationChannel, type CredentialRevoked } from '../auth/revocation.js';
import { SessionService } from '../auth/session.service.js';
import { DomainError } from '../errors/domain-error.js';
import { RedisService } from '../redis/redis.service.js';
import { ChannelDelivery } from './channel-delivery.service.js';
import { RealtimeControl, type ControlMessage } from './realtime-control.js';
import { plainMarkOf, RealtimeHandshake } from './realtime-handshake.js';
import { HEARTBEAT_MS, RealtimeLimits } from './realtime-limits.service.js';
import { RealtimeMetrics } from './realtime.metrics.js';
import {
  internalStream,
  isAuthenticated,
  rooms,
  sessionKeyOf,
  SETTINGS_CHANNEL,
  type AuthenticatedPrincipal,
  type ControlEventMap,
  type SocketData,
} from './realtime.types.js';
import { RequestGate } from './request-gate.js';

export type UserSocket = Socket<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, SocketData>;
type TokenPrincipal = Extract<AuthenticatedPrincipal, { kind: 'user' }>;

const EXPIRY_NOTICE_S = 60;
/** On each token-authenticated socket, the second it is due at: positive before the notice, negative after. */
const EXPIRY = Symbol('realtime:expiry');
type ExpiryHolder = UserSocket & { [EXPIRY]?: number };

@Injectable()
export class RealtimeConnections implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RealtimeConnections.name);
  private userNsp?: Namespace;
  private publicNsp?: Namespace;
  private draining = false;
  private heartbeat?: NodeJS.Timeout;
  /**
   * Token expiry of the token-authenticated sockets: what is due in each second, checked by one
   * timer per instance (a timer per socket would cost more memory than the rest of its state).
   */
  private readonly expiryDue = new Map<number, Set<UserSocket>>();
  private expiryTick?: NodeJS.Timeout;

  constructor(
    private readonly handshake: RealtimeHandshake,
    private readonly gate: RequestGate,
    private readonly tokens: AccessTokenService,
    private readonly sessions: SessionService,
    private readonly limits: RealtimeLimits,
    private readonly delivery: ChannelDelivery,
    private readonly control: RealtimeControl,
    private readonly redis: RedisService,
    private readonly metrics: RealtimeMetrics,
    private readonly config: AppConfig,
  ) {}

  get isDraining(): boolean {
    return this.draining;
  }

  get namespaces(): { user?: Namespace; public?: Namespace } {
    return { user: this.userNsp, public: this.publicNsp };
  }

  attachUser(nsp: Namespace): void {
    this.userNsp = nsp;
    nsp.use(this.handshake.forUsers(() => this.draining));
  }

  attachPublic(nsp: Namespace): void {
    this.publicNsp = nsp;
    nsp.use(this.handshake.forPublic(() => this.draining));
  }

  async onApplicationBootstrap(): Promise<void> {
    const revocations = revocationChannel(this.redis);
    await this.redis.subscribe('realtime-control', [revocations, this.control.channel], (channel, raw) => {
      try {
        const message: unknown = JSON.parse(raw);
        if (channel === revocations) this.onRevoked(message as CredentialRevoked);
        else this.applyControl(message as ControlMessage);
      } catch (error) {
        this.logger.warn({ err: error }, 'malformed realtime control message');
      }
    });
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
    this.expiryTick = setInterval(() => this.checkExpiries(), 1000);
    this.expiryTick.unref();
  }

  /** SIGTERM: refuse new sockets, ask the connected ones to reconnect elsewhere, close them. */
  async beforeApplicationShutdown(): Promise<void> {
    this.draining = true;
    clearInterval(this.heartbeat);
    clearInterval(this.expiryTick);
    const releases: Promise<void>[] = [];
    for (const nsp of [this.userNsp, this.publicNsp]) {
      if (!nsp) continue;
      for (const socket of nsp.sockets.values()) {
        socket.emit('request_reconnect', { reason: 'shutdown' } satisfies ControlEventMap['request_reconnect']);
        const { principal } = socket.data as SocketData;
        if (isAuthenticated(principal)) {
          releases.push(this.limits.releaseConnection(principal.userId, socket.id, sessionKeyOf(principal)));
        }
      }
      nsp.local.disconnectSockets(true);
    }
    await Promise.allSettled(releases);
  }

  async onUserConnect(socket: UserSocket): Promise<void> {
    this.metrics.connections.inc({ namespace: 'user' });
    this.gate.install(socket);
    const { principal } = socket.data;
    if (!isAuthenticated(principal)) {
      const anonymous: ControlEventMap['connected'] = {
        user_id: null,
        channel: null,
        timestamp: Math.floor(Date.now() / 1000),
      };
      socket.emit('connected', anonymous);
      return;
    }
    const mark = plainMarkOf(socket.request);
    await socket.join(
      mark
        ? [rooms.user(principal.userId), rooms.endpoint(mark.endpoint, principal.userId)]
        : rooms.user(principal.userId),
    );
    await this.limits.sessionArrived(sessionKeyOf(principal), socket.id);
    if (principal.kind === 'user') this.scheduleExpiry(socket, principal);
    if (socket.data.generation !== undefined) {
      const scope = this.config.env.SINGLE_SOCKET_PER_USER ? undefined : mark?.endpoint;
      await this.control.replace(principal.userId, socket.data.generation, scope);
    }
    // A plain connection's internal streams first: the `connected` event says everything is joined.
    for (const stream of mark?.streams ?? []) {
      await this.delivery.join(socket, internalStream(stream.name, principal.userId), stream.since);
    }
    const since = socket.handshake.auth?.since as number | undefined;
    await this.delivery.join(socket, principal.channel, since, ({ seq, reset }) =>
      socket.emit('connected', {
        user_id: principal.userId,
        channel: principal.channel,
        timestamp: Math.floor(Date.now() / 1000),
        seq,
        reset,
      } satisfies ControlEventMap['connected']),
    );
    await this.delivery.join(socket, SETTINGS_CHANNEL, mark?.settingsSince);
  }

  /**
   * Emits `event` to a user's connections on one plain-WebSocket endpoint, on every instance (a
   * push that is not a channel event: no seq, not stored, e.g. seed 002's test notification).
   * Resolves to how many connections it reached.
   */
  async emitToEndpoint(userId: string, endpoint: string, event: string, payload: unknown): Promise<number> {
    const nsp = this.userNsp;
    if (!nsp) return 0;
    const room = rooms.endpoint(endpoint, userId);
    const reached = (await nsp.in(room).fetchSockets()).length;
    if (reached > 0) nsp.to(room).emit(event, payload);
    return reached;
  }

  /** This instance's connections on a plain-WebSocket endpoint. */
  localCount(endpoint: string): number {
    let count = 0;
    for (const socket of this.userNsp?.sockets.values() ?? []) {
      if ((socket.data as SocketData).endpoint === endpoint) count += 1;
    }
    return count;
  }

  onPublicConnect(socket: Socket): void {
    this.metrics.connections.inc({ namespace: 'public' });
    this.gate.install(socket);
  }

  async onDisconnect(socket: Socket, namespace: 'user' | 'public'): Promise<void> {
    this.metrics.connections.dec({ namespace });
    this.unscheduleExpiry(socket as UserSocket);
    const principal = (socket.data as SocketData | undefined)?.principal;
    if (principal && isAuthenticated(principal)) {
      await this.limits
        .releaseConnection(principal.userId, socket.id, sessionKeyOf(principal))
        .catch((error: unknown) => this.logger.warn({ err: error }, 'could not release a connection'));
    }
  }

  /** `refresh {access_token}`: the same user continues on a new token. */
  async refresh(socket: UserSocket, accessToken: string): Promise<{ expires_in: number }> {
    const current = socket.data.principal;
    if (current.kind !== 'user') throw new DomainError('UNAUTHORIZED', 'only a token-authenticated socket can refresh');
    const claims = await this.tokens.verify(accessToken);
    if (!claims || claims.sub !== current.userId || !(await this.sessions.isActive(claims.sid, claims.sub))) {
      throw new DomainError('UNAUTHORIZED', 'Invalid or expired token');
    }
    const principal: TokenPrincipal = {
      ...current,
      sessionId: claims.sid,
      role: claims.role,
      tokenExpiresAt: claims.exp,
    };
    socket.data.principal = principal;
    this.scheduleExpiry(socket, principal);
    return { expires_in: claims.exp - Math.floor(Date.now() / 1000) };
  }

  /** First the `auth_expiring` notice, 60 s before expiry; then the close at expiry. */
  private scheduleExpiry(socket: UserSocket, principal: TokenPrincipal): void {
    this.unscheduleExpiry(socket);
    const at = Math.max(Math.floor(Date.now() / 1000), principal.tokenExpiresAt - EXPIRY_NOTICE_S);
    (socket as ExpiryHolder)[EXPIRY] = at;
    this.dueAt(at).add(socket);
  }

  private unscheduleExpiry(socket: UserSocket): void {
    const marked = (socket as ExpiryHolder)[EXPIRY];
    if (marked === undefined) return;
    const at = Math.abs(marked);
    const due = this.expiryDue.get(at);
    due?.delete(socket);
    if (due?.size === 0) this.expiryDue.delete(at);
  }

  private dueAt(second: number): Set<UserSocket> {
    let due = this.expiryDue.get(second);
    if (!due) {
      due = new Set();
      this.expiryDue.set(second, due);
    }
    return due;
  }

  private checkExpiries(): void {
    const now = Math.floor(Date.now() / 1000);
    for (const [second, sockets] of this.expiryDue) {
      if (second > now) continue;
      this.expiryDue.delete(second);
      for (const socket of sockets) this.expiryReached(socket, now);
    }
  }

  private expiryReached(socket: UserSocket, now: number): void {
    const marked = (socket as ExpiryHolder)[EXPIRY];
    const { principal } = socket.data;
    if (marked === undefined || socket.disconnected || principal.kind !== 'user') return;
    if (marked < 0 || principal.tokenExpiresAt <= now) {
      this.close(socket, 'expired');
      return;
    }
    socket.emit('auth_expiring', {
      expires_in: principal.tokenExpiresAt - now,
    } satisfies ControlEventMap['auth_expiring']);
    (socket as ExpiryHolder)[EXPIRY] = -principal.tokenExpiresAt;
    this.dueAt(principal.tokenExpiresAt).add(socket);
  }

  private close(socket: Socket, reason: string, detail?: string): void {
    if (socket.disconnected) return;
    socket.emit('force_logout', (detail ? { reason, detail } : { reason }) satisfies ControlEventMap['force_logout']);
    socket.disconnect(true);
  }

  /** The sockets that authenticated with the revoked session or key (found among the user's). */
  private onRevoked(message: CredentialRevoked): void {
    for (const socket of this.localMembers(rooms.user(message.userId))) {
      const { principal } = socket.data;
      const used =
        message.kind === 'session'
          ? principal.kind === 'user' && principal.sessionId === message.sessionId
          : principal.kind === 'api_key' && principal.apiKeyId === message.apiKeyId;
      if (used) this.close(socket, 'revoked', message.reason);
    }
  }

  private applyControl(message: ControlMessage): void {
    if (message.op === 'close') {
      for (const socket of this.localMembers(message.room)) this.close(socket, message.reason);
      return;
    }
    for (const socket of this.localMembers(rooms.user(message.userId))) {
      const { generation, endpoint } = socket.data;
      if (message.endpoint !== undefined && endpoint !== message.endpoint) continue;
      if (generation !== undefined && generation < message.generation) this.close(socket, 'replaced');
    }
  }

  private localMembers(room: string): UserSocket[] {
    const nsp = this.userNsp;
    const ids = nsp?.adapter.rooms.get(room);
    if (!nsp || !ids) return [];
    return [...ids].flatMap((id) => {
      const socket = nsp.sockets.get(id) as UserSocket | undefined;
      return socket ? [socket] : [];
    });
  }

  /** Keeps this instance's connections counted in Redis (they expire without it). */
  private async beat(): Promise<void> {
    const connections: { userId: string; socketId: string; session: string }[] = [];
    for (const socket of this.userNsp?.sockets.values() ?? []) {
      const { principal } = socket.data as SocketData;
      if (isAuthenticated(principal)) {
        connections.push({ userId: principal.userId, socketId: socket.id, session: sessionKeyOf(principal) });
      }
    }
    try {
      await this.limits.heartbeat(connections);
    } catch (error) {
      this.logger.warn({ err: error }, 'connection heartbeat failed');
    }
  }
}
