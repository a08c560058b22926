import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config.js';
import { dataSourceOptions } from './data-source.js';
import { Transactions } from './transactions.js';

/** PostgreSQL through TypeORM, and the one transaction runner, for every module. */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions({
          url: config.databaseUrl,
          poolSize: config.env.DATABASE_POOL_SIZE,
          connectTimeoutMs: config.env.DATABASE_CONNECT_TIMEOUT_MS,
        }),
        autoLoadEntities: true,
        // Connectivity was checked before boot (core/infra/preflight); fail fast after that.
        retryAttempts: 0,
      }),
    }),
  ],
  providers: [Transactions],
  exports: [Transactions],
})
export class DatabaseModule {}
