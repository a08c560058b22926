// Sends a payment to its partner: the work of the partner.deposit and partner.payout jobs. The
// partner is asked outside any transaction (it may take seconds); its acceptance is then recorded
// as the `send` step, which does nothing if the payment moved on meanwhile (a webhook that came
// first, a cancellation). A withdrawal to an agent is not sent anywhere: the agent pays it at once.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Transactions } from '../../core/database/transactions.js';
import type { PartnerAcceptance } from '../partners/partner-adapter.js';
import { PartnerAdapters } from '../partners/partner-adapters.js';
import { PaymentEvents } from './payment-events.js';
import { LIFECYCLES, transition } from './payment-lifecycle.js';
import { PaymentSettlementService } from './payment-settlement.service.js';
import { findPayment } from './payment-store.js';
import type { PaymentTable, RowOf, WithdrawalRow } from './payments.types.js';

@Injectable()
export class PaymentDispatchService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly transactions: Transactions,
    private readonly adapters: PartnerAdapters,
    private readonly settlement: PaymentSettlementService,
    private readonly events: PaymentEvents,
  ) {}

  /** Throws when the partner did not take it (the job tries again); `skipped` when it is no longer new. */
  async send(table: PaymentTable, id: string): Promise<'sent' | 'settled' | 'skipped'> {
    const row = await findPayment(this.db, table, { id });
    if (!row || row.status !== LIFECYCLES[table].opened) return 'skipped';
    if (table === 'withdrawals' && (row as WithdrawalRow).agent_id) {
      await this.settlement.completeWithAgent(id);
      return 'settled';
    }
    const { partnerReference } = await this.ask(table, row);
    await this.transactions.run(async (tx) => {
      const sent = await transition(tx, table, { id }, 'send', { partnerReference });
      if (sent.moved) this.events.changed(tx, table, sent.row);
    });
    return 'sent';
  }

  private ask<T extends PaymentTable>(table: T, row: RowOf<T>): Promise<PartnerAcceptance> {
    const partnerId = row.partner_id!;
    const request = { requestRef: row.request_ref, amountMinor: BigInt(row.amount), currency: row.currency, partnerId };
    const adapter = this.adapters.for(partnerId);
    return table === 'deposits'
      ? adapter.requestDeposit(request)
      : adapter.requestPayout({ ...request, destination: (row as WithdrawalRow).destination });
  }
}
