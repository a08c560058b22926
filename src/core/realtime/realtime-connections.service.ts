// The life of a socket on this instance once the handshake let it in: joining the user's
// channels, token expiry and refresh, revocations and replacements coming from any instance (over
// Redis), counting it against the plan while it lives, and the goodbye on shutdown.
import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { DefaultEventsMap, Namespace, Socket } from 'socket.io';
import { AccessTokenService } from '../auth/access-token.service.js';
import { revocationChannel, type CredentialRevoked } from '../auth/revocation.js';
import { SessionService } from '../auth/session.service.js';
import { DomainError } from '../errors/domain-error.js';
import { RedisService } from '../redis/redis.service.js';
import { ChannelDelivery } from './channel-delivery.service.js';
import { RealtimeControl, type ControlMessage } from './realtime-control.js';
import { RealtimeHandshake } from './realtime-handshake.js';
import { HEARTBEAT_MS, RealtimeLimits } from './realtime-limits.service.js';
import { RealtimeMetrics } from './realtime.metrics.js';
import {
  isAuthenticated,
  rooms,
  SETTINGS_CHANNEL,
  type AuthenticatedPrincipal,
  type SocketData,
} from './realtime.types.js';
import { RequestGate } from './request-gate.js';

export type UserSocket = Socket<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, SocketData>;
type TokenPrincipal = Extract<AuthenticatedPrincipal, { kind: 'user' }>;

const EXPIRY_NOTICE_S = 60;

@Injectable()
export class RealtimeConnections implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RealtimeConnections.name);
  private userNsp?: Namespace;
  private publicNsp?: Namespace;
  private draining = false;
  private heartbeat?: NodeJS.Timeout;
  private readonly expiryTimers = new WeakMap<Socket, NodeJS.Timeout>();

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
    const subscriber = this.redis.duplicate('realtime-control');
    const revocations = revocationChannel(this.redis);
    subscriber.on('message', (channel: string, raw: string) => {
      try {
        const message: unknown = JSON.parse(raw);
        if (channel === revocations) this.onRevoked(message as CredentialRevoked);
        else this.applyControl(message as ControlMessage);
      } catch (error) {
        this.logger.warn({ err: error }, 'malformed realtime control message');
      }
    });
    await subscriber.subscribe(revocations, this.control.channel);
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** SIGTERM: refuse new sockets, ask the connected ones to reconnect elsewhere, close them. */
  async beforeApplicationShutdown(): Promise<void> {
    this.draining = true;
    clearInterval(this.heartbeat);
    const releases: Promise<void>[] = [];
    for (const nsp of [this.userNsp, this.publicNsp]) {
      if (!nsp) continue;
      for (const socket of nsp.sockets.values()) {
        socket.emit('request_reconnect', { reason: 'shutdown' });
        const { principal } = socket.data as SocketData;
        if (isAuthenticated(principal)) releases.push(this.limits.releaseConnection(principal.userId, socket.id));
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
      socket.emit('connected', { user_id: null, channel: null, timestamp: Math.floor(Date.now() / 1000) });
      return;
    }
    await socket.join([
      rooms.user(principal.userId),
      principal.kind === 'user' ? rooms.session(principal.sessionId) : rooms.apiKey(principal.apiKeyId),
    ]);
    if (principal.kind === 'user') this.scheduleExpiry(socket, principal);
    if (socket.data.generation !== undefined) await this.control.replace(principal.userId, socket.data.generation);
    const since = socket.handshake.auth?.since as number | undefined;
    await this.delivery.join(socket, principal.channel, since, ({ seq, reset }) =>
      socket.emit('connected', {
        user_id: principal.userId,
        channel: principal.channel,
        timestamp: Math.floor(Date.now() / 1000),
        seq,
        reset,
      }),
    );
    await this.delivery.join(socket, SETTINGS_CHANNEL);
  }

  onPublicConnect(socket: Socket): void {
    this.metrics.connections.inc({ namespace: 'public' });
    this.gate.install(socket);
  }

  async onDisconnect(socket: Socket, namespace: 'user' | 'public'): Promise<void> {
    this.metrics.connections.dec({ namespace });
    clearTimeout(this.expiryTimers.get(socket));
    const principal = (socket.data as SocketData | undefined)?.principal;
    if (principal && isAuthenticated(principal)) {
      await this.limits
        .releaseConnection(principal.userId, socket.id)
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
    if (claims.sid !== current.sessionId) {
      await socket.leave(rooms.session(current.sessionId));
      await socket.join(rooms.session(claims.sid));
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

  /** One timer per socket: first the `auth_expiring` notice, then the close at expiry. */
  private scheduleExpiry(socket: UserSocket, principal: TokenPrincipal): void {
    clearTimeout(this.expiryTimers.get(socket));
    const secondsLeft = principal.tokenExpiresAt - Date.now() / 1000;
    const notice = setTimeout(
      () => {
        if (socket.disconnected) return;
        const expiresIn = Math.max(0, Math.round(principal.tokenExpiresAt - Date.now() / 1000));
        socket.emit('auth_expiring', { expires_in: expiresIn });
        const expiry = setTimeout(
          () => this.close(socket, 'expired'),
          Math.max(0, principal.tokenExpiresAt * 1000 - Date.now()),
        );
        this.expiryTimers.set(socket, expiry);
      },
      Math.max(0, secondsLeft - EXPIRY_NOTICE_S) * 1000,
    );
    this.expiryTimers.set(socket, notice);
  }

  private close(socket: Socket, reason: string, detail?: string): void {
    if (socket.disconnected) return;
    socket.emit('force_logout', detail ? { reason, detail } : { reason });
    socket.disconnect(true);
  }

  private onRevoked(message: CredentialRevoked): void {
    const room = message.kind === 'session' ? rooms.session(message.sessionId) : rooms.apiKey(message.apiKeyId);
    for (const socket of this.localMembers(room)) this.close(socket, 'revoked', message.reason);
  }

  private applyControl(message: ControlMessage): void {
    if (message.op === 'close') {
      for (const socket of this.localMembers(message.room)) this.close(socket, message.reason);
      return;
    }
    for (const socket of this.localMembers(rooms.user(message.userId))) {
      const generation = socket.data.generation;
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
    const connections: { userId: string; socketId: string }[] = [];
    for (const socket of this.userNsp?.sockets.values() ?? []) {
      const { principal } = socket.data as SocketData;
      if (isAuthenticated(principal)) connections.push({ userId: principal.userId, socketId: socket.id });
    }
    try {
      await this.limits.heartbeat(connections);
    } catch (error) {
      this.logger.warn({ err: error }, 'connection heartbeat failed');
    }
  }
}
