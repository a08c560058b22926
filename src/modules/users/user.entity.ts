import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import type { Role } from '../../core/auth/auth.types.js';

export type UserState = 'active' | 'suspended';

// Constraints mirror migrations/ (named as there), so `migration:generate` sees no difference.
@Entity('users')
@Unique('users_email_key', ['email'])
@Unique('users_channel_key', ['channel'])
@Check('users_email_normalized', `email = lower(btrim(email)) AND length(email) BETWEEN 3 AND 254`)
@Check('users_channel_format', `channel ~ '^[0-9a-f]{32}$'`)
@Check('users_role_known', `role IN ('user', 'admin')`)
@Check('users_state_known', `state IN ('active', 'suspended')`)
export class UserEntity {
  /** bigint identity; exposed as a decimal string. */
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  /** Lower-cased and trimmed (the database checks it). */
  @Column({ type: 'text' })
  email: string;

  @Column({ name: 'password_hash', type: 'text', select: false })
  passwordHash: string;

  @Column({ type: 'text', nullable: true })
  phone: string | null;

  @Column({ type: 'text', nullable: true })
  name: string | null;

  /** The user's private channel id: 128 random bits, hex. */
  @Column({ type: 'text' })
  channel: string;

  @Column({ type: 'text', default: 'active' })
  state: UserState;

  @Column({ type: 'text' })
  plan: string;

  @Column({ type: 'text', default: 'user' })
  role: Role;

  @Column({ name: 'two_factor_enabled', type: 'boolean', default: false })
  twoFactorEnabled: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/** The user as the contract shows it (section 2). */
export interface UserView {
  id: string;
  email: string;
  phone: string | null;
  name: string | null;
  channel: string;
  state: UserState;
  plan: string;
  role: Role;
  two_factor_enabled: boolean;
  created_at: string;
}

export function toUserView(user: UserEntity): UserView {
  return {
    id: String(user.id),
    email: user.email,
    phone: user.phone,
    name: user.name,
    channel: user.channel,
    state: user.state,
    plan: user.plan,
    role: user.role,
    two_factor_enabled: user.twoFactorEnabled,
    created_at: user.createdAt.toISOString(),
  };
}
