// The life of a socket on this instance once the handshake let it in: joining the user's
// channels, replacing the user's older sockets, counting it against the plan while it lives, and
// the goodbye on shutdown. Its token's expiry is SocketExpiry's; closing it on a revocation or a
// control message from another process is SocketEvictions'.
import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Namespace, Socket } from 'socket.io';
import { ChannelDelivery } from './channel-delivery.service.js';
import { RealtimeControl } from './realtime-control.js';
import { plainMarkOf, RealtimeHandshake } from './realtime-handshake.js';
import { HEARTBEAT_MS, RealtimeLimits } from './realtime-limits.service.js';
import { RealtimeMetrics } from './realtime.metrics.js';
import {
  internalStream,
  isAuthenticated,
  rooms,
  sessionKeyOf,
  SETTINGS_CHANNEL,
  type ControlEventMap,
  type SocketData,
  type UserSocket,
} from './realtime.types.js';
import { RequestGate } from './request-gate.js';
import { SocketExpiry } from './socket-expiry.js';

@Injectable()
export class RealtimeConnections implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RealtimeConnections.name);
  private userNsp?: Namespace;
  private publicNsp?: Namespace;
  private draining = false;
  private heartbeat?: NodeJS.Timeout;

  constructor(
    private readonly handshake: RealtimeHandshake,
    private readonly gate: RequestGate,
    private readonly limits: RealtimeLimits,
    private readonly delivery: ChannelDelivery,
    private readonly control: RealtimeControl,
    private readonly expiry: SocketExpiry,
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

  onApplicationBootstrap(): void {
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
    const mark = plainMarkOf(socket);
    await socket.join(
      mark?.addressed
        ? [rooms.user(principal.userId), rooms.endpoint(mark.endpoint, principal.userId)]
        : rooms.user(principal.userId),
    );
    await this.limits.sessionArrived(sessionKeyOf(principal), socket.id);
    if (principal.kind === 'user') this.expiry.schedule(socket, principal);
    if (socket.data.generation !== undefined) {
      await this.control.replace(principal.userId, socket.data.generation, mark?.endpoint);
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
   * Emits `event` to a user's connections on one plain-WebSocket endpoint that is `addressed`, on
   * every instance (a push that is not a channel event: no seq, not stored, e.g. seed 002's test
   * notification). Resolves to how many connections it reached.
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
    this.expiry.unschedule(socket as UserSocket);
    const principal = (socket.data as SocketData | undefined)?.principal;
    if (principal && isAuthenticated(principal)) {
      await this.limits
        .releaseConnection(principal.userId, socket.id, sessionKeyOf(principal))
        .catch((error: unknown) => this.logger.warn({ err: error }, 'could not release a connection'));
    }
  }

  /** `refresh {access_token}`: the same user continues on a new token (SocketExpiry). */
  refresh(socket: UserSocket, accessToken: string): Promise<{ expires_in: number }> {
    return this.expiry.refresh(socket, accessToken);
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
