// Users: creation (signup and the admin bootstrap), lookup, credentials.
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, type EntityManager, type Repository } from 'typeorm';
import type { Role } from '../../core/auth/auth.types.js';
import { hashPassword, verifyPassword } from '../../core/auth/passwords.js';
import { AppConfig } from '../../core/config/app-config.js';
import { sql } from '../../core/database/sql.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { newChannelId } from '../../shared/ids.js';
import { UserEntity } from './user.entity.js';

export interface NewUser {
  email: string;
  password: string;
  phone?: string;
  name?: string;
}

const UNIQUE_VIOLATION = '23505';

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly config: AppConfig,
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
    if (!/^\d{1,19}$/.test(id)) return null;
    return this.users.findOneBy({ id });
  }

  /** Gives the user a new private channel id; returns the old and the new one. */
  async rotateChannel(userId: string): Promise<{ previous: string; channel: string }> {
    const channel = newChannelId();
    const { rows } = await sql<{ previous: string }>(
      this.users.manager,
      `UPDATE users u SET channel = $2, updated_at = now() FROM users old
        WHERE u.id = $1 AND old.id = u.id RETURNING old.channel AS previous`,
      [userId, channel],
    );
    const previous = rows[0]?.previous;
    if (!previous) throw DomainError.unauthorized();
    return { previous, channel };
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
