// Exchange rates: a history table, the latest rate of a pair wins. Conversions read the rate in
// their own transaction, so the rate a journal used is the one it names (fx_rate_id).
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../../core/config/app-config.js';
import { sql } from '../../core/database/sql.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { AmountError } from '../../shared/money.js';
import { parseRate, rateScaledToString } from '../../shared/fx.js';
import { AuditService } from '../audit/audit.service.js';
import { Transactions } from '../../core/database/transactions.js';

export interface FxRate {
  id: string;
  base: string;
  quote: string;
  /** Destination units per source unit, scaled by 10^12. */
  rate: bigint;
  createdAt: Date;
}

export interface FxRateView {
  id: number;
  base: string;
  quote: string;
  rate: string;
  created_at: string;
}

export const toFxRateView = (r: FxRate): FxRateView => ({
  id: Number(r.id),
  base: r.base,
  quote: r.quote,
  rate: rateScaledToString(r.rate),
  created_at: r.createdAt.toISOString(),
});

interface RateRow {
  id: string;
  base: string;
  quote: string;
  rate: string;
  created_at: Date;
}

const toRate = (row: RateRow): FxRate => ({
  id: String(row.id),
  base: row.base,
  quote: row.quote,
  rate: parseRate(row.rate),
  createdAt: row.created_at,
});

@Injectable()
export class FxService {
  constructor(
    private readonly transactions: Transactions,
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
  ) {}

  /** The latest rate from `base` to `quote`, read in `manager`'s transaction. */
  async rate(manager: EntityManager | DataSource, base: string, quote: string): Promise<FxRate> {
    const { rows } = await sql<RateRow>(
      manager,
      `SELECT id, base, quote, rate, created_at FROM fx_rates WHERE base = $1 AND quote = $2 ORDER BY id DESC LIMIT 1`,
      [base, quote],
    );
    if (!rows[0]) throw DomainError.validation('to_currency', `no exchange rate from ${base} to ${quote}`);
    return toRate(rows[0]);
  }

  /** The latest rate of a pair, as committed now. */
  latestRate(base: string, quote: string): Promise<FxRate> {
    return this.rate(this.db, base, quote);
  }

  /** The latest rate of every pair. */
  async latest(): Promise<FxRate[]> {
    const { rows } = await sql<RateRow>(
      this.db,
      `SELECT DISTINCT ON (base, quote) id, base, quote, rate, created_at FROM fx_rates ORDER BY base, quote, id DESC`,
    );
    return rows.map(toRate);
  }

  /** Records a new rate for a pair (the history is kept), audited. */
  async setRate(actorId: string, base: string, quote: string, rateInput: unknown): Promise<FxRate> {
    for (const [field, code] of [
      ['base', base],
      ['quote', quote],
    ] as const) {
      if (!this.config.business.currencies.has(code)) throw DomainError.validation(field, `unknown currency ${code}`);
    }
    if (base === quote) throw DomainError.validation('quote', 'base and quote must differ');
    let rate: bigint;
    try {
      rate = parseRate(rateInput);
    } catch (error) {
      if (error instanceof AmountError) throw DomainError.validation(error.field, error.message);
      throw error;
    }
    return this.transactions.run(async (tx) => {
      const { rows } = await sql<RateRow>(
        tx,
        `INSERT INTO fx_rates (base, quote, rate, created_by) VALUES ($1, $2, $3::numeric, $4) RETURNING id, base, quote, rate, created_at`,
        [base, quote, rateScaledToString(rate), actorId],
      );
      await this.audit.record(tx, {
        actorId,
        action: 'fx_rate.set',
        target: `fx:${base}/${quote}`,
        details: { rate: rateScaledToString(rate) },
      });
      return toRate(rows[0]);
    });
  }
}
