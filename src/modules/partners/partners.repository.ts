// The partners table: the start-up upsert from the configuration, and the read of every row.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { sql } from '../../core/database/sql.js';
import type { PartnerStatus } from './partners.types.js';
import { Transactions } from '../../core/database/transactions.js';

export interface PartnerRow {
  id: string;
  name: string;
  service: string;
  country: string;
  currencies: string[];
  adapter: string;
  status: PartnerStatus;
  webhook_secrets: string[];
}

export interface PartnerSeed {
  id: string;
  name: string;
  service: string;
  country: string;
  currencies: string[];
  adapter: string;
  status: PartnerStatus;
  webhookSecrets: string[];
}

export interface SyncResult {
  /** Partners inserted or changed. */
  changed: string[];
  /** Partners no longer configured, now inactive. */
  deactivated: string[];
  /** Every row as this sync left it (read under the same lock). */
  rows: PartnerRow[];
}

const COLUMNS = 'id, name, service, country, currencies, adapter, status, webhook_secrets';

@Injectable()
export class PartnersRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly transactions: Transactions,
  ) {}

  /**
   * Makes the table say what `seeds` say; rows not among them become inactive (never deleted:
   * payments point at them). `secretsOfOthers` updates the secrets of such rows, so webhooks of a
   * retired partner can still be verified after a rotation. Unchanged rows are not written.
   */
  async sync(seeds: readonly PartnerSeed[], secretsOfOthers: Record<string, string[]> = {}): Promise<SyncResult> {
    return this.transactions.run(async (tx) => {
      // Instances starting together take turns; each one's upsert then sees the other's rows.
      await sql(tx, `SELECT pg_advisory_xact_lock(hashtext('cashier.partners.sync'))`);
      const changed: string[] = [];
      for (const seed of [...seeds].sort((a, b) => (a.id < b.id ? -1 : 1))) {
        const { count } = await sql(
          tx,
          `INSERT INTO partners AS p (id, name, service, country, currencies, adapter, status, webhook_secrets)
           VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8::text[])
           ON CONFLICT (id) DO UPDATE
              SET name = EXCLUDED.name, service = EXCLUDED.service, country = EXCLUDED.country,
                  currencies = EXCLUDED.currencies, adapter = EXCLUDED.adapter, status = EXCLUDED.status,
                  webhook_secrets = EXCLUDED.webhook_secrets, updated_at = now()
            WHERE (p.name, p.service, p.country, p.currencies, p.adapter, p.status, p.webhook_secrets)
                  IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.service, EXCLUDED.country, EXCLUDED.currencies,
                                    EXCLUDED.adapter, EXCLUDED.status, EXCLUDED.webhook_secrets)`,
          [
            seed.id,
            seed.name,
            seed.service,
            seed.country,
            seed.currencies,
            seed.adapter,
            seed.status,
            seed.webhookSecrets,
          ],
        );
        if (count > 0) changed.push(seed.id);
      }
      const ids = seeds.map((s) => s.id);
      const { rows } = await sql<{ id: string }>(
        tx,
        `UPDATE partners SET status = 'inactive', updated_at = now()
          WHERE id <> ALL($1::text[]) AND status <> 'inactive'
          RETURNING id`,
        [ids],
      );
      for (const [id, secrets] of Object.entries(secretsOfOthers)) {
        if (ids.includes(id)) continue;
        await sql(
          tx,
          `UPDATE partners SET webhook_secrets = $2::text[], updated_at = now()
            WHERE id = $1 AND webhook_secrets IS DISTINCT FROM $2::text[]`,
          [id, secrets],
        );
      }
      const all = await sql<PartnerRow>(tx, `SELECT ${COLUMNS} FROM partners ORDER BY id`);
      return { changed, deactivated: rows.map((r) => r.id).sort(), rows: all.rows };
    });
  }

  async all(): Promise<PartnerRow[]> {
    const { rows } = await sql<PartnerRow>(this.db, `SELECT ${COLUMNS} FROM partners ORDER BY id`);
    return rows;
  }
}
