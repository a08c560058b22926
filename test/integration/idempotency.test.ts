// The idempotency keys' retention: the purge job deletes keys a day past their 24-hour window,
// and nothing younger.
import type { INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyModule } from '../../src/modules/idempotency/idempotency.module.js';
import { IdempotencyService } from '../../src/modules/idempotency/idempotency.service.js';
import { UsersModule } from '../../src/modules/users/users.module.js';
import { UsersService } from '../../src/modules/users/users.service.js';
import { withDb } from '../helpers/db.js';
import { PASSWORD, uniqueEmail } from '../helpers/factories.js';
import { createTestContext } from '../helpers/nest.js';

let app: INestApplicationContext;

beforeAll(async () => {
  app = await createTestContext([UsersModule, IdempotencyModule]);
});

afterAll(async () => {
  await app?.close();
});

describe('IdempotencyService.purgeExpired', () => {
  it('deletes keys older than 48 hours and keeps the others', async () => {
    const user = await app.get(UsersService).create({ email: uniqueEmail('purge'), password: PASSWORD });
    const keysOf = () =>
      withDb(async (db) => {
        const { rows } = await db.query<{ key: string }>(
          'SELECT key FROM idempotency_keys WHERE user_id = $1 ORDER BY key',
          [user.id],
        );
        return rows.map((r) => r.key);
      });
    await withDb((db) =>
      db.query(
        `INSERT INTO idempotency_keys (user_id, key, request_type, request_hash, created_at)
         VALUES ($1, 'fresh', 'transfer', '\\x00', now()),
                ($1, 'expired', 'transfer', '\\x00', now() - interval '25 hours'),
                ($1, 'kept', 'transfer', '\\x00', now() - interval '47 hours'),
                ($1, 'purged', 'transfer', '\\x00', now() - interval '49 hours')`,
        [user.id],
      ),
    );
    expect(await app.get(IdempotencyService).purgeExpired()).toBeGreaterThanOrEqual(1);
    expect(await keysOf()).toEqual(['expired', 'fresh', 'kept']);
  });
});
