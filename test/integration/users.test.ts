// Users against real PostgreSQL: one account per email under concurrency, the admin bootstrap
// when several instances start together, and what the database itself refuses.
import type { INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DomainError } from '../../src/core/errors/domain-error.js';
import { UsersModule } from '../../src/modules/users/users.module.js';
import { UsersService } from '../../src/modules/users/users.service.js';
import { countRows, withDb } from '../helpers/db.js';
import { PASSWORD, uniqueEmail } from '../helpers/factories.js';
import { createTestContext } from '../helpers/nest.js';

let app: INestApplicationContext;
let users: UsersService;

beforeAll(async () => {
  app = await createTestContext([UsersModule]);
  users = app.get(UsersService);
});

afterAll(async () => {
  await app?.close();
});

describe('UsersService', () => {
  it('creates one account when ten signups race for one email', async () => {
    const email = uniqueEmail('race');
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => users.create({ email, password: PASSWORD })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const result of results.filter((r) => r.status === 'rejected')) {
      expect((result.reason as DomainError).code).toBe('CONFLICT');
    }
    expect(await countRows('users', 'email = $1', [email])).toBe(1);
  });

  it('stores a salted argon2id hash, never the password', async () => {
    const user = await users.create({ email: uniqueEmail('hash'), password: PASSWORD });
    const row = await withDb((db) => db.query('SELECT password_hash FROM users WHERE id = $1', [user.id]));
    expect(row.rows[0].password_hash).toMatch(/^\$argon2id\$/);
    expect(row.rows[0].password_hash).not.toContain(PASSWORD);
    expect(await users.findByCredentials(user.email, PASSWORD)).toMatchObject({ id: user.id });
    expect(await users.findByCredentials(user.email, 'wrong')).toBeNull();
    expect(await users.findByCredentials(uniqueEmail('ghost'), PASSWORD)).toBeNull();
  });

  it('bootstraps the admin once when five instances start together, and keeps it in step with the settings', async () => {
    const email = uniqueEmail('admin');
    await Promise.all(Array.from({ length: 5 }, () => users.ensureAdmin(email, 'first admin password')));
    expect(await countRows('users', 'email = $1 AND role = $2', [email, 'admin'])).toBe(1);

    await users.ensureAdmin(email, 'second admin password');
    expect(await users.findByCredentials(email, 'second admin password')).toMatchObject({ role: 'admin' });
    expect(await users.findByCredentials(email, 'first admin password')).toBeNull();
  });

  it('promotes an existing user named as the admin', async () => {
    const user = await users.create({ email: uniqueEmail('promote'), password: PASSWORD });
    await users.ensureAdmin(user.email, 'admin password 12');
    expect((await users.findById(user.id))?.role).toBe('admin');
  });

  it('is backed by database constraints as well', async () => {
    await withDb(async (db) => {
      const insert = (email: string, channel: string, role = 'user') =>
        db.query(`INSERT INTO users (email, password_hash, channel, plan, role) VALUES ($1, 'x', $2, 'standard', $3)`, [
          email,
          channel,
          role,
        ]);
      await expect(insert('Upper@Example.com', 'a'.repeat(32))).rejects.toThrow(/users_email_normalized/);
      await expect(insert(uniqueEmail(), 'not-hex')).rejects.toThrow(/users_channel_format/);
      await expect(insert(uniqueEmail(), 'b'.repeat(32), 'root')).rejects.toThrow(/users_role_known/);
    });
  });
});
