// Users: creation (signup and the admin bootstrap), lookup, credentials, the private channel and the
// 2FA flag. Other modules read and change the users table through here (a few statements that must
// read a user in the same statement as their own tables say so where they do).
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, type EntityManager, type Repository } from 'typeorm';
import type { Role } from '../../core/auth/auth.types.js';
import { hashPassword, verifyPassword } from '../../core/auth/passwords.js';
import { AppConfig } from '../../core/config/app-config.js';
import { sql } from '../../core/database/sql.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { RealtimeControl } from '../../core/realtime/realtime-control.js';
import { newChannelId } from '../../shared/ids.js';
import { toUserView, UserEntity, type UserView } from './user.entity.js';

export interface NewUser {
  email: string;
  password: string;
  phone?: string;
  name?: string;
}

const UNIQUE_VIOLATION = '23505';

/** A users.id: a bigint as a decimal string. */
const isUserId = (id: string) => /^\d{1,19}$/.test(id);

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly config: AppConfig,
    private readonly control: RealtimeControl,
  ) {}

  /** Creates a user; inside `manager`'s transaction when one is given. */
  async create(input: NewUser, role: Role = 'user', manager?: EntityManager): Promise<UserEntity> {
    const users = manager ? manager.getRepository(UserEntity) : this.users;
    const user = users.create({
      email: normalizeEmail(input.email),
      passwordHash: await hashPassword(input.password),
      phone: input.phone ?? null,
      name: input.name ?? null,
      channel: newChannelId(),
      state: 'active',
      plan: this.config.business.defaultPlan,
      role,
      twoFactorEnabled: false,
    });
    try {
      return await users.save(user);
    } catch (error) {
      if (error instanceof QueryFailedError && (error.driverError as { code?: string }).code === UNIQUE_VIOLATION) {
        throw new DomainError('CONFLICT', 'email is already registered', { field: 'email' });
      }
      throw error;
    }
  }

  async findById(id: string): Promise<UserEntity | null> {
    if (!isUserId(id)) return null;
    return this.users.findOneBy({ id });
  }

  /** The signed-in user as the API shows them; UNAUTHORIZED when they no longer exist. */
  async profile(userId: string): Promise<UserView> {
    const user = await this.findById(userId);
    if (!user) throw DomainError.unauthorized();
    return toUserView(user);
  }

  /** Refuses with NOT_FOUND (naming `field`) unless the user exists; read in `manager`'s transaction. */
  async requireExists(manager: EntityManager, userId: string, field = 'user_id'): Promise<void> {
    const found =
      isUserId(userId) && (await sql(manager, `SELECT 1 FROM users WHERE id = $1`, [userId])).rows.length > 0;
    if (!found) throw new DomainError('NOT_FOUND', 'user not found', { field });
  }

  /** Marks 2FA on, in the transaction that enables the user's TOTP secret. */
  async enableTwoFactor(tx: EntityManager, userId: string): Promise<void> {
    await sql(tx, `UPDATE users SET two_factor_enabled = true, updated_at = now() WHERE id = $1`, [userId]);
  }

  /** Gives the user a new private channel id; sockets that joined the old one are closed, on every instance. */
  async rotateChannel(userId: string): Promise<{ channel: string }> {
    const channel = newChannelId();
    const { rows } = await sql<{ previous: string }>(
      this.users.manager,
      `UPDATE users u SET channel = $2, updated_at = now() FROM users old
        WHERE u.id = $1 AND old.id = u.id RETURNING old.channel AS previous`,
      [userId, channel],
    );
    const previous = rows[0]?.previous;
    if (!previous) throw DomainError.unauthorized();
    await this.control.closeChannel(previous, 'channel_rotated');
    return { channel };
  }

  async findByChannel(channel: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ channel });
  }

  /** The user whose email and password match, or null (same time either way). */
  async findByCredentials(email: string, password: string): Promise<UserEntity | null> {
    const user = await this.users
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.email = :email', { email: normalizeEmail(email) })
      .getOne();
    const ok = await verifyPassword(user?.passwordHash, password);
    return ok && user ? user : null;
  }

  /**
   * Makes sure the configured administrator exists with the admin role and the configured
   * password. Safe when several instances start at once.
   */
  async ensureAdmin(email: string, password: string): Promise<void> {
    const normalized = normalizeEmail(email);
    try {
      await this.create({ email: normalized, password }, 'admin');
      this.logger.log({ email: normalized }, 'admin user created');
      return;
    } catch (error) {
      // Already there (perhaps created by another instance starting at the same time).
      if (!(error instanceof DomainError && error.code === 'CONFLICT')) throw error;
    }
    const current = await this.users
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.email = :email', { email: normalized })
      .getOneOrFail();
    const changes: Partial<UserEntity> = {};
    if (current.role !== 'admin') changes.role = 'admin';
    if (!(await verifyPassword(current.passwordHash, password))) changes.passwordHash = await hashPassword(password);
    if (Object.keys(changes).length > 0) {
      await this.users.update({ id: current.id }, changes);
      this.logger.log(
        { email: normalized, changed: Object.keys(changes) },
        'admin user updated from ADMIN_EMAIL/ADMIN_PASSWORD',
      );
    }
  }
}
