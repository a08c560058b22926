// The bus that carries committed events from whichever process published them (API or worker) to
// every API instance: one Redis pub/sub channel under REDIS_PREFIX (sharded pub/sub on a Redis
// Cluster, see RedisService). Delivery to sockets happens on each instance (see
// channel-delivery.service.ts), where per-socket order is enforced.
//
// A process's own subscriber gets what the process publishes at once, in the publishing call,
// rather than back from Redis: the events of a posting reach this instance's sockets in the same
// turn as the request's acknowledgement, so both leave in one write (write-coalescer.ts), and the
// process never parses its own messages. Each message on Redis starts with its publisher's origin
// tag, by which a subscriber recognizes (and skips) what it has delivered already.
import { randomBytes } from 'node:crypto';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { RedisService, type RedisSubscription } from '../redis/redis.service.js';
import { frameJson } from './frame-json.js';
import type { StreamFrame } from './realtime.types.js';

export interface BusMessage {
  frames: StreamFrame[];
}

type OnMessage = (message: BusMessage) => void;

/** JSON.stringify(message), from the frames' texts (frame-json.ts). */
const messageJson = (message: BusMessage): string =>
  `{"frames":[${message.frames.map((frame) => frameJson(frame)).join(',')}]}`;

@Injectable()
export class RealtimeBus implements OnApplicationShutdown {
  private readonly logger = new Logger(RealtimeBus.name);
  private subscription?: RedisSubscription;
  private onMessage?: OnMessage;
  /** This process's tag on its messages, followed by the space that ends it. */
  private readonly origin = `${randomBytes(8).toString('hex')} `;

  constructor(private readonly redis: RedisService) {}

  private get channel(): string {
    return this.redis.key('realtime', 'events');
  }

  /**
   * Hands `message` to this process's subscriber, if any, before returning; resolves once Redis
   * took it for the other processes.
   */
  async publish(message: BusMessage): Promise<void> {
    if (message.frames.length === 0) return;
    this.handle(message);
    // Redis gets it at the end of this turn, after the sockets held by this delivery were written
    // (write-coalescer.ts, whose release handle() scheduled first): the reply of the request that
    // published and this instance's pushes leave before it. In the order of the publish calls.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.redis.publish(this.channel, this.origin + messageJson(message));
  }

  /**
   * Calls `onMessage` for every message, this process's own included; `onReconnect` after the
   * subscription was lost and re-established (messages of other processes may have been missed).
   */
  async subscribe(onMessage: OnMessage, onReconnect: () => void): Promise<void> {
    this.onMessage = onMessage;
    const receive = (_channel: string, raw: string) => {
      if (raw.startsWith(this.origin)) return; // handled when it was published
      // A message without a tag (a process of the previous version) is JSON from its first byte.
      const json = raw.startsWith('{') ? raw : raw.slice(raw.indexOf(' ') + 1);
      let message: BusMessage;
      try {
        message = JSON.parse(json) as BusMessage;
      } catch (error) {
        this.logger.error({ err: error }, 'undeliverable realtime bus message');
        return;
      }
      this.handle(message);
    };
    this.subscription = await this.redis.subscribe('realtime-bus', [this.channel], receive, onReconnect);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.unsubscribe().catch(() => undefined);
  }

  private handle(message: BusMessage): void {
    try {
      this.onMessage?.(message);
    } catch (error) {
      this.logger.error({ err: error }, 'realtime bus message handler failed');
    }
  }
}
