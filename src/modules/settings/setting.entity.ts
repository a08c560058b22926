import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity.js';

/** A runtime setting (e.g. withdrawal_settings), pushed to every client on the `settings` channel. */
@Entity('settings')
@Check('settings_key_format', `key ~ '^[a-z][a-z0-9_]{0,63}$'`)
export class SettingEntity {
  @PrimaryColumn('text')
  key: string;

  @Column({ type: 'jsonb' })
  value: Record<string, unknown>;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'updated_by', type: 'bigint', nullable: true })
  updatedBy: string | null;

  @ManyToOne(() => UserEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'updated_by', foreignKeyConstraintName: 'settings_updated_by_fkey' })
  updater?: UserEntity;
}
