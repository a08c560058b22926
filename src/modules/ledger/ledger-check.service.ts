// GET /admin/ledger/check: the ledger's invariants (ledger-check.ts) over the whole database, with
// each currency's totals in major units.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppConfig } from '../../core/config/app-config.js';
import { sql } from '../../core/database/sql.js';
import { toMajor } from '../../shared/money.js';
import { checkLedger, type LedgerCheckReport } from './ledger-check.js';

export type LedgerCheckView = Omit<LedgerCheckReport, 'currencies'> & {
  currencies: Record<string, { debits: number; credits: number }>;
};

@Injectable()
export class LedgerCheckService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
  ) {}

  async check(): Promise<LedgerCheckView> {
    const report = await checkLedger(
      async <T>(text: string, params?: unknown[]) => (await sql<T>(this.db, text, params)).rows,
    );
    // A currency no longer configured (its entries remain) is shown in minor units.
    const decimals = (code: string) => this.config.business.currencies.get(code)?.decimals ?? 0;
    return {
      ...report,
      currencies: Object.fromEntries(
        Object.entries(report.currencies).map(([code, t]) => [
          code,
          { debits: toMajor(BigInt(t.debits), decimals(code)), credits: toMajor(BigInt(t.credits), decimals(code)) },
        ]),
      ),
    };
  }
}
