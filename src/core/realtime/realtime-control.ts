// Closing sockets from any process (API or worker): a message on one Redis channel that every
// API instance acts on for its own sockets. Credential revocations (core/auth/revocation.ts)
// travel the same way.
import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service.js';
import { rooms } from './realtime.types.js';

export type ControlMessage =
  | { op: 'close'; room: string; reason: string }
  | { op: 'replace'; userId: string; generation: number; endpoint?: string };

@Injectable()
export class RealtimeControl {
  constructor(private readonly redis: RedisService) {}

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
   * The user's sockets older than `generation` are replaced (SINGLE_SOCKET_PER_USER), or only
   * those on `endpoint` (a plain-WebSocket endpoint with one connection per user).
   */
  replace(userId: string, generation: number, endpoint?: string): Promise<void> {
    return this.send({ op: 'replace', userId, generation, ...(endpoint ? { endpoint } : {}) });
  }

  private async send(message: ControlMessage): Promise<void> {
    await this.redis.publish(this.channel, JSON.stringify(message));
  }
}
