// Administrative corrections: credit or debit a user wallet against the adjustments account of
// the currency, with a reason, audited, in one transaction; the ledger announces the journal.
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config.js';
import { AccountsService } from '../accounts/accounts.service.js';
import { amountOf, currencyOf } from '../accounts/money-input.js';
import { AuditService } from '../audit/audit.service.js';
import { UsersService } from '../users/users.service.js';
import type { AdjustmentRequestDto } from './dto/adjustment-request.dto.js';
import { PostingQueue } from './posting-queue.js';
import { Transactions } from '../../core/database/transactions.js';

@Injectable()
export class AdjustmentsService {
  constructor(
    private readonly transactions: Transactions,
    private readonly postings: PostingQueue,
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
      // A credit opens the wallet; a debit of one that does not exist is ACCOUNT_NOT_FOUND.
      const wallet = { wallet: request.user_id, currency: currency.code, field: 'currency' };
      const adjustments = { id: this.accounts.systemAccount('adjustments', currency.code) };
      const [debit, credit] = request.direction === 'credit' ? [adjustments, wallet] : [wallet, adjustments];
      const posted = await this.postings.post(tx, {
        type: 'TRANSACTION_TYPE_ADJUSTMENT',
        description: `Adjustment: ${request.reason}`,
        lines: [
          { account: debit, direction: 'DR', amount, description: `Adjustment (${request.direction})` },
          { account: credit, direction: 'CR', amount, description: `Adjustment (${request.direction})` },
        ],
        initiatedBy: actorId,
        metadata: { reason: request.reason, direction: request.direction },
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
