// Administrative corrections: credit or debit a user wallet against the adjustments account of
// the currency, with a reason, audited, in one transaction; the ledger announces the journal.
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { AccountsService } from '../accounts/accounts.service.js';
import { amountOf, currencyOf } from '../accounts/money-input.js';
import { AuditService } from '../audit/audit.service.js';
import { UsersService } from '../users/users.service.js';
import type { AdjustmentRequestDto } from './dto/adjustment-request.dto.js';
import { LedgerService } from './ledger.service.js';
import { Transactions } from '../../core/database/transactions.js';

@Injectable()
export class AdjustmentsService {
  constructor(
    private readonly transactions: Transactions,
    private readonly ledger: LedgerService,
    private readonly accounts: AccountsService,
    private readonly audit: AuditService,
    private readonly users: UsersService,
    private readonly config: AppConfig,
  ) {}

  async adjust(actorId: string, request: AdjustmentRequestDto): Promise<{ receipt_code: string; journal_id: number }> {
    const currency = currencyOf(this.config, request.currency);
    const amount = amountOf(request.amount, currency);
    return this.transactions.run(async (tx) => {
      await this.users.requireExists(tx, request.user_id);
      const wallet =
        request.direction === 'credit'
          ? await this.accounts.ensureWallet(tx, request.user_id, currency.code)
          : await this.accounts.walletId(tx, request.user_id, currency.code);
      if (!wallet) throw new DomainError('ACCOUNT_NOT_FOUND', 'account not found', { field: 'currency' });
      const adjustments = this.accounts.systemAccount('adjustments', currency.code);
      const [debit, credit] = request.direction === 'credit' ? [adjustments, wallet] : [wallet, adjustments];
      const posted = await this.ledger.post(tx, {
        type: 'TRANSACTION_TYPE_ADJUSTMENT',
        description: `Adjustment: ${request.reason}`,
        lines: [
          { accountId: debit, direction: 'DR', amount, description: `Adjustment (${request.direction})` },
          { accountId: credit, direction: 'CR', amount, description: `Adjustment (${request.direction})` },
        ],
        initiatedBy: actorId,
        metadata: { reason: request.reason, direction: request.direction },
        announce: true,
      });
      await this.audit.record(tx, {
        actorId,
        action: 'ledger.adjustment',
        target: `user:${request.user_id}`,
        details: {
          receipt_code: posted.receiptCode,
          currency: currency.code,
          amount: amount.toString(),
          direction: request.direction,
          reason: request.reason,
        },
      });
      return { receipt_code: posted.receiptCode, journal_id: Number(posted.journalId) };
    });
  }
}
