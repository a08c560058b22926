// Sessions against real PostgreSQL and Redis, with two application contexts standing in for two
// instances: rotation under concurrency, revocation seen everywhere, the cache rebuilt from
// PostgreSQL, and the purge of ended sessions.
import type { INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionService } from '../../src/core/auth/session.service.js';
import { DomainError } from '../../src/core/errors/domain-error.js';
import { RedisService } from '../../src/core/redis/redis.service.js';
import { UsersModule } from '../../src/modules/users/users.module.js';
import { UsersService } from '../../src/modules/users/users.service.js';
import { countRows, withDb } from '../helpers/db.js';
import { PASSWORD, uniqueEmail } from '../helpers/factories.js';
import { createTestContext } from '../helpers/nest.js';

let one: INestApplicationContext;
let two: INestApplicationContext;
let sessions: SessionService;
let otherInstance: SessionService;
let userId: string;

beforeAll(async () => {
  [one, two] = await Promise.all([createTestContext([UsersModule]), createTestContext()]);
  sessions = one.get(SessionService);
  otherInstance = two.get(SessionService);
  userId = (await one.get(UsersService).create({ email: uniqueEmail('sess'), password: PASSWORD })).id;
});

afterAll(async () => {
  await Promise.all([one?.close(), two?.close()]);
});

describe('refresh rotation', () => {
  it('lets exactly one of ten concurrent rotations of a token win, and then revokes the family', async () => {
    const opened = await sessions.open(userId);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => sessions.rotate(opened.refreshToken)));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    for (const result of lost) {
      expect(result.reason).toBeInstanceOf(DomainError);
      expect((result.reason as DomainError).code).toBe('AUTHENTICATION_FAILED');
    }
    // The losers presented a spent token: the session is revoked, the winner's token too.
    expect(await otherInstance.isActive(opened.sessionId, userId)).toBe(false);
    const winner = (won[0] as PromiseFulfilledResult<{ refreshToken: string }>).value;
    await expect(sessions.rotate(winner.refreshToken)).rejects.toThrow('invalid or expired refresh token');
    expect(await countRows('refresh_tokens', 'session_id = $1', [opened.sessionId])).toBe(2);
  });

  it('refuses a token whose refresh lifetime is over', async () => {
    const opened = await sessions.open(userId);
    await withDb((db) =>
      db.query(`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE session_id = $1`, [
        opened.sessionId,
      ]),
    );
    await expect(sessions.rotate(opened.refreshToken)).rejects.toThrow('invalid or expired refresh token');
  });
});

describe('revocation', () => {
  it('holds on the other instance at once, and is announced on the revocation channel', async () => {
    const opened = await sessions.open(userId);
    expect(await otherInstance.isActive(opened.sessionId, userId)).toBe(true);

    const subscriber = two.get(RedisService).duplicate('test-subscriber');
    const announced = new Promise<string>((resolve) =>
      subscriber.on('message', (_channel, message: string) => resolve(message)),
    );
    await subscriber.subscribe(sessions.revokedChannel);

    expect(await sessions.revoke(opened.sessionId, 'logout')).toBe(true);
    expect(await otherInstance.isActive(opened.sessionId, userId)).toBe(false);
    expect(JSON.parse(await announced)).toEqual({
      kind: 'session',
      sessionId: opened.sessionId,
      userId,
      reason: 'logout',
    });
    expect(await sessions.revoke(opened.sessionId, 'logout')).toBe(false);
  });

  it('is read back from PostgreSQL when Redis has forgotten the session', async () => {
    const live = await sessions.open(userId);
    const revoked = await sessions.open(userId);
    await sessions.revoke(revoked.sessionId, 'admin');
    const redis = one.get(RedisService);
    await redis.client.del(redis.key('session', live.sessionId), redis.key('session', revoked.sessionId));

    expect(await otherInstance.isActive(live.sessionId, userId)).toBe(true);
    expect(await otherInstance.isActive(revoked.sessionId, userId)).toBe(false);
    expect(await otherInstance.isActive(live.sessionId, '999999')).toBe(false);
    expect(await otherInstance.isActive('not-a-uuid', userId)).toBe(false);
  });

  it('revokes every live session of a user', async () => {
    const user = (await one.get(UsersService).create({ email: uniqueEmail('all'), password: PASSWORD })).id;
    const opened = await Promise.all([1, 2, 3].map(() => sessions.open(user)));
    expect(await sessions.revokeAllForUser(user, 'admin')).toBe(3);
    for (const session of opened) expect(await otherInstance.isActive(session.sessionId, user)).toBe(false);
  });
});

describe('purge', () => {
  it('deletes sessions ended more than a week ago with their refresh tokens, and nothing else', async () => {
    const old = await sessions.open(userId);
    const recent = await sessions.open(userId);
    await withDb(async (db) => {
      await db.query(`UPDATE sessions SET expires_at = now() - interval '8 days' WHERE id = $1`, [old.sessionId]);
      await db.query(`UPDATE sessions SET expires_at = now() - interval '1 day' WHERE id = $1`, [recent.sessionId]);
    });
    expect(await sessions.purgeEnded()).toBeGreaterThanOrEqual(1);
    expect(await countRows('sessions', 'id = $1', [old.sessionId])).toBe(0);
    expect(await countRows('refresh_tokens', 'session_id = $1', [old.sessionId])).toBe(0);
    expect(await countRows('sessions', 'id = $1', [recent.sessionId])).toBe(1);
  });
});
