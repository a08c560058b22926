// The worker's repeating jobs survive a Redis that comes back empty (issue 15, defect 2): killed
// and restarted without its data, the schedulers are re-created within seconds, by the worker's
// own timer and on reconnect, without restarting anything.
import type { INestApplicationContext } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppConfig } from '../../src/core/config/app-config.js';
import { JobSchedules, SCHEDULE_CHECK_MS, SCHEDULES } from '../../src/core/queue/schedules.js';
import { createTestContext, testConfig } from '../helpers/nest.js';
import { startRedisChild, type RedisChild } from '../helpers/redis-child.js';

@Module({ providers: [JobSchedules] })
class SchedulesModule {}

let redis: RedisChild;
let app: INestApplicationContext;
const PREFIX = 'schedules-test';

const schedulerKeys = () => redis.keys(`${PREFIX}:bull:*:repeat:*`);

beforeAll(async () => {
  redis = await startRedisChild();
  const base = testConfig({ REDIS_PREFIX: PREFIX });
  const config = createAppConfig({
    env: base.env,
    databaseUrl: base.databaseUrl,
    redisUrl: redis.url,
    jwtSecret: base.jwtSecret,
    business: base.business,
  });
  app = await createTestContext([SchedulesModule], config);
});

afterAll(async () => {
  await app?.close();
  await redis?.kill();
});

describe('job schedulers', () => {
  it('are all registered at start-up', async () => {
    expect(SCHEDULES.map((s) => s.id)).toEqual(
      expect.arrayContaining(['deposit.sweep', 'outbox.relay', 'outbox.purge', 'sessions.purge', 'idempotency.purge']),
    );
    await expect.poll(async () => (await schedulerKeys()).length).toBeGreaterThanOrEqual(SCHEDULES.length);
    expect(await app.get(JobSchedules).ensure()).toEqual([]);
  });

  it('come back within 10 s of Redis returning empty, with nothing restarted', async () => {
    const before = (await schedulerKeys()).length;
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await redis.restart();
    expect(await schedulerKeys()).toEqual([]);
    const back = Date.now();
    await expect
      .poll(async () => (await schedulerKeys()).length, { timeout: 10_000, interval: 200 })
      .toBeGreaterThanOrEqual(before);
    expect(Date.now() - back).toBeLessThan(SCHEDULE_CHECK_MS * 2);
    expect(await app.get(JobSchedules).ensure()).toEqual([]);
  }, 30_000);
});
