import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuthCoreModule } from './auth/auth-core.module.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { QueueModule } from './queue/queue.module.js';
import { RealtimeCoreModule } from './realtime/realtime.module.js';
import { RedisModule } from './redis/redis.module.js';
import { ClockModule } from './time/clock.js';

/** What every process needs: configuration, clock, logging, PostgreSQL, Redis, queues, sessions, publishing. */
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        ConfigModule.forRoot(config),
        ClockModule,
        LoggingModule.forRoot(logger),
        DatabaseModule,
        RedisModule,
        QueueModule,
        AuthCoreModule,
        RealtimeCoreModule,
      ],
    };
  }
}
