// Closing this instance's sockets when any process says so, over Redis: credential revocations
// (core/auth/revocation.ts: the sockets that used the revoked session or API key) and control
// messages (realtime-control.ts: close a room, replace a user's older sockets).
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { revocationChannel, type CredentialRevoked } from '../auth/revocation.js';
import { RedisService } from '../redis/redis.service.js';
import { RealtimeConnections } from './realtime-connections.service.js';
import { RealtimeControl, type ControlMessage } from './realtime-control.js';
import { forceLogout, rooms, type UserSocket } from './realtime.types.js';

@Injectable()
export class SocketEvictions implements OnApplicationBootstrap {
  private readonly logger = new Logger(SocketEvictions.name);

  constructor(
    private readonly connections: RealtimeConnections,
    private readonly control: RealtimeControl,
    private readonly redis: RedisService,
  ) {}

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
  }

  /** The sockets that authenticated with the revoked session or key (found among the user's). */
  private onRevoked(message: CredentialRevoked): void {
    for (const socket of this.localMembers(rooms.user(message.userId))) {
      const { principal } = socket.data;
      const used =
        message.kind === 'session'
          ? principal.kind === 'user' && principal.sessionId === message.sessionId
          : principal.kind === 'api_key' && principal.apiKeyId === message.apiKeyId;
      if (used) forceLogout(socket, 'revoked', message.reason);
    }
  }

  private applyControl(message: ControlMessage): void {
    if (message.op === 'close') {
      for (const socket of this.localMembers(message.room)) forceLogout(socket, message.reason);
      return;
    }
    for (const socket of this.localMembers(rooms.user(message.userId))) {
      const { generation, endpoint } = socket.data;
      if (message.endpoint !== undefined && endpoint !== message.endpoint) continue;
      if (generation !== undefined && generation < message.generation) forceLogout(socket, 'replaced');
    }
  }

  private localMembers(room: string): UserSocket[] {
    const nsp = this.connections.namespaces.user;
    const ids = nsp?.adapter.rooms.get(room);
    if (!nsp || !ids) return [];
    return [...ids].flatMap((id) => {
      const socket = nsp.sockets.get(id) as UserSocket | undefined;
      return socket ? [socket] : [];
    });
  }
}
