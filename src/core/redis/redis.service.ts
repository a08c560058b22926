// The shared Redis connection and the key naming of the deployment. Every key and pub/sub channel
// carries REDIS_PREFIX, so deployments or test runs sharing one Redis never see each other.
//
// Redis is one server or a Redis Cluster (REDIS_CLUSTER); the difference stays in here and in the
// key names: keys that one Lua script or pipeline touches together share a hash tag (`{...}`), so
// that on a Cluster they live in one slot. Pub/sub on a Cluster is sharded (SPUBLISH/SSUBSCRIBE):
// a message goes to the shard that owns its channel, not to every node over the cluster bus.
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { AppConfig } from '../config/app-config.js';
import { connectRedis, type RedisClient, type RedisConnectOptions } from './redis-connection.js';

export type { RedisClient } from './redis-connection.js';

export interface RedisSubscription {
  unsubscribe(): Promise<void>;
}

@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  readonly client: RedisClient;
  readonly prefix: string;
  readonly isCluster: boolean;
  private readonly extra: RedisClient[] = [];
  private queueCluster?: Cluster;

  constructor(private readonly config: AppConfig) {
    this.prefix = config.env.REDIS_PREFIX;
    this.isCluster = config.env.REDIS_CLUSTER;
    // On a Cluster a pipeline may not span nodes; auto-pipelining sends the commands of one turn
    // of the event loop as one pipeline per node instead (see RealtimeLimits).
    this.client = this.connect('main', this.isCluster ? { cluster: { enableAutoPipelining: true } } : {});
  }

  /** `prefix:part:part...` */
  key(...parts: (string | number)[]): string {
    return [this.prefix, ...parts].join(':');
  }

  /**
   * Where BullMQ keeps its queues. On a Cluster all of them in one hash slot (`prefix:{bull}`):
   * BullMQ's scripts touch several keys of a queue in one call.
   */
  get queuePrefix(): string {
    return this.isCluster ? this.key('{bull}') : this.key('bull');
  }

  /**
   * BullMQ's connection. One Redis: options, BullMQ opens and closes its connections itself. A
   * Cluster: a connection of its own, shared by this process's queues (BullMQ duplicates it for
   * workers) and closed with the application.
   */
  queueConnection(): ConnectionOptions {
    if (!this.isCluster) return { url: this.config.redisUrl, maxRetriesPerRequest: null };
    this.queueCluster ??= this.connect('bullmq', { redis: { maxRetriesPerRequest: null } }) as Cluster;
    return this.queueCluster;
  }

  /**
   * A further connection (pub/sub needs its own); closed with the application. On a Cluster,
   * `subscriber: true` gives it one subscriber connection per master, for SSUBSCRIBE.
   */
  duplicate(name: string, options: { subscriber?: boolean } = {}): RedisClient {
    const connection = this.connect(
      name,
      this.isCluster && options.subscriber ? { cluster: { shardedSubscribers: true } } : {},
    );
    this.extra.push(connection);
    return connection;
  }

  /** PUBLISH, or on a Cluster SPUBLISH (to the shard that owns the channel). */
  async publish(channel: string, message: string): Promise<void> {
    if (this.isCluster) await this.client.spublish(channel, message);
    else await this.client.publish(channel, message);
  }

  /**
   * Subscribes a connection of its own to `channels` (what `publish` sends). `onResubscribed`
   * runs when the subscription was lost and is back: messages sent meanwhile were missed.
   */
  async subscribe(
    name: string,
    channels: string[],
    onMessage: (channel: string, message: string) => void,
    onResubscribed?: () => void,
  ): Promise<RedisSubscription> {
    if (!this.isCluster) {
      const connection = this.duplicate(name) as Redis;
      let ready = false;
      // ioredis subscribes again by itself on every reconnect, right after `ready`.
      connection.on('ready', () => {
        if (ready) onResubscribed?.();
        ready = true;
      });
      connection.on('message', onMessage);
      await connection.subscribe(...channels);
      return {
        unsubscribe: async () => {
          await connection.unsubscribe();
        },
      };
    }
    const connection = this.duplicate(name, { subscriber: true }) as Cluster;
    let subscribed = false;
    // ioredis emits `subscribersReady` once it has replaced lost subscriber connections (a node
    // went away, slots moved, the cluster came back) and sent their SSUBSCRIBEs again. It fires
    // at start-up too, before the subscriptions below are confirmed; those are not losses.
    // The event is ioredis internals (its cluster subscriber group), not among its documented
    // events: re-check it on an upgrade; test/e2e/redis-cluster.test.ts fails if it goes away.
    connection.on('subscribersReady', () => {
      if (subscribed) onResubscribed?.();
    });
    connection.on('smessage', onMessage);
    // One SSUBSCRIBE per channel: the channels of one call must hash to one slot.
    for (const channel of channels) await connection.ssubscribe(channel);
    subscribed = true;
    return {
      unsubscribe: async () => {
        // SUNSUBSCRIBE without channels cannot be routed to a shard: name them.
        for (const channel of channels) await connection.sunsubscribe(channel);
      },
    };
  }

  /** Every master of a Cluster answers, or the one Redis does. */
  async ping(): Promise<void> {
    if (!this.isCluster) {
      await this.client.ping();
      return;
    }
    const masters = (this.client as Cluster).nodes('master');
    if (masters.length === 0) throw new Error('no Redis Cluster master is connected');
    await Promise.all(masters.map((node) => node.ping()));
  }

  private connect(name: string, options: RedisConnectOptions = {}): RedisClient {
    const connection = connectRedis(
      { url: this.config.redisUrl, cluster: this.isCluster },
      { ...options, redis: { connectionName: `cashier:${name}`, ...options.redis } },
    );
    connection.on('error', (error: Error) =>
      this.logger.warn({ err: error, connection: name }, 'redis connection error'),
    );
    return connection;
  }

  async onApplicationShutdown(): Promise<void> {
    const connections = [this.client, ...this.extra, ...(this.queueCluster ? [this.queueCluster] : [])];
    await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
  }
}
