// The bus that carries committed events from whichever process published them (API or worker) to
// every API instance: one Redis pub/sub channel under REDIS_PREFIX. Delivery to sockets happens on
// each instance (see channel-delivery.service.ts), where per-socket order is enforced.
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisService } from '../redis/redis.service.js';
import type { StreamFrame } from './realtime.types.js';

export interface BusMessage {
  frames: StreamFrame[];
  /** Public market channels: a plain room broadcast, no per-socket order. */
  public?: boolean;
}

@Injectable()
export class RealtimeBus implements OnApplicationShutdown {
  private readonly logger = new Logger(RealtimeBus.name);
  private subscriber?: Redis;

  constructor(private readonly redis: RedisService) {}

  private get channel(): string {
    return this.redis.key('realtime', 'events');
  }

  async publish(message: BusMessage): Promise<void> {
    if (message.frames.length === 0) return;
    await this.redis.client.publish(this.channel, JSON.stringify(message));
  }

  /**
   * Calls `onMessage` for every message; `onReconnect` after the subscription was lost and
   * re-established (messages may have been missed meanwhile).
   */
  async subscribe(onMessage: (message: BusMessage) => void, onReconnect: () => void): Promise<void> {
    const subscriber = this.redis.duplicate('realtime-bus');
    this.subscriber = subscriber;
    let ready = false;
    subscriber.on('ready', () => {
      if (ready) onReconnect();
      ready = true;
    });
    subscriber.on('message', (_channel: string, raw: string) => {
      try {
        onMessage(JSON.parse(raw) as BusMessage);
      } catch (error) {
        this.logger.error({ err: error }, 'undeliverable realtime bus message');
      }
    });
    await subscriber.subscribe(this.channel);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber?.unsubscribe().catch(() => undefined);
  }
}
