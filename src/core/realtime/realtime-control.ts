// Closing sockets from any process (API or worker): a message on one Redis channel that every
// API instance acts on for its own sockets. Credential revocations (core/auth/revocation.ts)
// travel the same way.
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { RedisService } from '../redis/redis.service.js';
import { rooms } from './realtime.types.js';

export type ControlMessage =
  | { op: 'close'; room: string; reason: string }
  | { op: 'replace'; userId: string; generation: number; endpoint?: string };

@Injectable()
export class RealtimeControl {
  constructor(
    private readonly redis: RedisService,
    private readonly config: AppConfig,
  ) {}

  get channel(): string {
    return this.redis.key('realtime', 'control');
  }

  /** Every socket of a user, token- or key-authenticated, gets `force_logout` and is closed. */
  closeUser(userId: string, reason: string): Promise<void> {
    return this.send({ op: 'close', room: rooms.user(userId), reason });
  }

  /** Every socket that joined `channel` gets `force_logout` and is closed. */
  closeChannel(channel: string, reason: string): Promise<void> {
    return this.send({ op: 'close', room: channel, reason });
  }

  /**
   * A new socket of generation `generation` (numbered by the handshake) replaces the user's older
   * ones: all of them with SINGLE_SOCKET_PER_USER, else only those on `endpoint`, the plain
   * WebSocket endpoint with one connection per user it came through.
   */
  replace(userId: string, generation: number, endpoint?: string): Promise<void> {
    const scope = this.config.env.SINGLE_SOCKET_PER_USER ? undefined : endpoint;
    return this.send({ op: 'replace', userId, generation, ...(scope ? { endpoint: scope } : {}) });
  }

  private async send(message: ControlMessage): Promise<void> {
    await this.redis.publish(this.channel, JSON.stringify(message));
  }
}
