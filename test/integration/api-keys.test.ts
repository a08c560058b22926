// API keys as the realtime handshake will use them: a live key names its owner and plan; revoked,
// unknown and malformed keys name nobody.
import type { INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeysModule } from '../../src/modules/api-keys/api-keys.module.js';
import { ApiKeysService } from '../../src/modules/api-keys/api-keys.service.js';
import { UsersService } from '../../src/modules/users/users.service.js';
import { withDb } from '../helpers/db.js';
import { PASSWORD, uniqueEmail } from '../helpers/factories.js';
import { createTestContext } from '../helpers/nest.js';

let app: INestApplicationContext;
let keys: ApiKeysService;
let userId: string;

beforeAll(async () => {
  app = await createTestContext([ApiKeysModule]);
  keys = app.get(ApiKeysService);
  userId = (await app.get(UsersService).create({ email: uniqueEmail('keys'), password: PASSWORD })).id;
});

afterAll(async () => {
  await app?.close();
});

describe('ApiKeysService.authenticate', () => {
  it('names the owner and plan of a live key and records its use', async () => {
    const issued = await keys.issue(userId);
    expect(await keys.authenticate(issued.api_key)).toEqual({ keyId: issued.id, userId, plan: 'standard' });
    const used = await withDb((db) => db.query('SELECT last_used_at FROM api_keys WHERE id = $1', [issued.id]));
    expect(used.rows[0].last_used_at).toBeInstanceOf(Date);
  });

  it('follows the plan of the user at issue time', async () => {
    await withDb((db) => db.query(`UPDATE users SET plan = 'premium' WHERE id = $1`, [userId]));
    try {
      const issued = await keys.issue(userId);
      expect(issued.plan).toBe('premium');
      expect((await keys.authenticate(issued.api_key))?.plan).toBe('premium');
    } finally {
      await withDb((db) => db.query(`UPDATE users SET plan = 'standard' WHERE id = $1`, [userId]));
    }
  });

  it('names nobody for a revoked, unknown or malformed key', async () => {
    const issued = await keys.issue(userId);
    await keys.revoke(userId, issued.id);
    expect(await keys.authenticate(issued.api_key)).toBeNull();
    expect(await keys.authenticate(`ck_${'A'.repeat(43)}`)).toBeNull();
    for (const malformed of ['', 'ck_', 'x'.repeat(46), `${issued.api_key}x`, "ck_' OR 1=1 --"]) {
      expect(await keys.authenticate(malformed)).toBeNull();
    }
  });
});
