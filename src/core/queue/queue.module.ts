import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { RedisService } from '../redis/redis.service.js';
import { QUEUE_NAMES } from './queues.js';
import { QueueService } from './queue.service.js';

/**
 * BullMQ on the shared Redis (one server or a Cluster, see RedisService), under REDIS_PREFIX.
 * Producers only: processors live in the worker.
 */
@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [RedisService],
      useFactory: (redis: RedisService) => ({ connection: redis.queueConnection(), prefix: redis.queuePrefix }),
    }),
    BullModule.registerQueue(...QUEUE_NAMES.map((name) => ({ name }))),
  ],
  providers: [QueueService],
  exports: [BullModule, QueueService],
})
export class QueueModule {}
