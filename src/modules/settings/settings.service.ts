// Runtime settings: stored, audited, and pushed to every client on the `settings` channel as
// `<key>_updated` with the new value (seed 001: withdrawal_settings_updated).
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { sql } from '../../core/database/sql.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { OutboxStore } from '../../core/realtime/outbox.store.js';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { SETTINGS_CHANNEL } from '../../core/realtime/realtime.types.js';
import { AuditService } from '../audit/audit.service.js';
import { SettingEntity } from './setting.entity.js';
import { Transactions } from '../../core/database/transactions.js';

const KEY = /^[a-z][a-z0-9_]{0,63}$/;
const MAX_VALUE_BYTES = 8 * 1024;

export interface SettingView {
  key: string;
  value: Record<string, unknown>;
  updated_at: string;
}

@Injectable()
export class SettingsService {
  constructor(
    private readonly transactions: Transactions,
    @InjectDataSource() private readonly db: DataSource,
    private readonly publisher: RealtimePublisher,
    private readonly outbox: OutboxStore,
    private readonly audit: AuditService,
  ) {}

  async set(actorId: string, key: string, value: unknown): Promise<SettingView> {
    if (!KEY.test(key)) throw DomainError.validation('key', 'key must be 1-64 lower-case letters, digits or "_"');
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw DomainError.validation('value', 'the setting must be a JSON object');
    }
    if ('type' in value) throw DomainError.validation('type', 'property type is reserved');
    if (Buffer.byteLength(JSON.stringify(value)) > MAX_VALUE_BYTES) {
      throw DomainError.validation('value', `the setting must be at most ${MAX_VALUE_BYTES} bytes of JSON`);
    }
    const record = value as Record<string, unknown>;
    return this.transactions.run(async (tx) => {
      const { rows } = await sql<{ value: Record<string, unknown>; updated_at: Date }>(
        tx,
        `INSERT INTO settings (key, value, updated_by) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = now()
         RETURNING value, updated_at`,
        [key, JSON.stringify(record), actorId],
      );
      const event = `${key}_updated`;
      this.publisher.publishUnchecked(tx, SETTINGS_CHANNEL, event, { type: event, ...record });
      await this.audit.record(tx, { actorId, action: 'settings.update', target: `settings:${key}`, details: record });
      return { key, value: rows[0].value, updated_at: rows[0].updated_at.toISOString() };
    });
  }

  /** Every setting, with the `settings` channel's seq at the time of the read. */
  async all(): Promise<{ settings: Record<string, Record<string, unknown>>; as_of_seq: number }> {
    const { latest } = await this.outbox.bounds(SETTINGS_CHANNEL);
    const rows = await this.db.manager.find(SettingEntity, { order: { key: 'ASC' } });
    return { settings: Object.fromEntries(rows.map((r) => [r.key, r.value])), as_of_seq: latest };
  }
}
