// The shared Redis connection and the key naming of the deployment. Every key and pub/sub channel
// carries REDIS_PREFIX, so deployments or test runs sharing one Redis never see each other.
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { AppConfig } from '../config/app-config.js';

@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  readonly client: Redis;
  readonly prefix: string;
  private readonly extra: Redis[] = [];

  constructor(private readonly config: AppConfig) {
    this.prefix = config.env.REDIS_PREFIX;
    this.client = this.connect('main');
  }

  /** `prefix:part:part...` */
  key(...parts: (string | number)[]): string {
    return [this.prefix, ...parts].join(':');
  }

  /** A further connection (pub/sub needs its own); closed with the application. */
  duplicate(name: string, options: RedisOptions = {}): Redis {
    const connection = this.connect(name, options);
    this.extra.push(connection);
    return connection;
  }

  private connect(name: string, options: RedisOptions = {}): Redis {
    const connection = new Redis(this.config.redisUrl, { connectionName: `cashier:${name}`, ...options });
    connection.on('error', (error: Error) =>
      this.logger.warn({ err: error, connection: name }, 'redis connection error'),
    );
    return connection;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.client, ...this.extra].map((c) => c.quit().catch(() => c.disconnect())));
  }
}
