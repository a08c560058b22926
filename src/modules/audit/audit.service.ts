import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { sql } from '../../core/database/sql.js';

export interface AuditEntry {
  actorId: string | null;
  action: string;
  target?: string;
  details?: Record<string, unknown>;
}

/** Records administrative actions, in the transaction of the action itself. */
@Injectable()
export class AuditService {
  async record(manager: EntityManager, entry: AuditEntry): Promise<void> {
    await sql(manager, `INSERT INTO audit_log (actor_id, action, target, details) VALUES ($1, $2, $3, $4)`, [
      entry.actorId,
      entry.action,
      entry.target ?? null,
      JSON.stringify(entry.details ?? {}),
    ]);
  }
}
