// Opens a payment, deposits and withdrawals alike. In one transaction: the idempotency key is
// claimed (a repeat gets the first reply, and nothing else happens), the kind's own work creates
// the row (and holds funds), `payment` is announced on the new payment's channel, and the reply is
// stored with the key. After the commit, the job that sends the payment is enqueued.
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Transactions } from '../../core/database/transactions.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { PaymentEvents } from './payment-events.js';
import { PaymentJobsService } from './payment-jobs.service.js';
import type { PaymentTable, RowOf } from './payments.types.js';

/** The request's idempotency key (if it has one), its request type and the hash it is bound to. */
export interface PaymentKeyClaim {
  key: string | undefined;
  requestType: string;
  hash: Buffer;
}

@Injectable()
export class PaymentIntakeService {
  constructor(
    private readonly transactions: Transactions,
    private readonly idempotency: IdempotencyService,
    private readonly events: PaymentEvents,
    private readonly jobs: PaymentJobsService,
  ) {}

  /** `create` writes the payment of `table` in `tx` and says what to reply. */
  async open<T extends PaymentTable, R>(
    table: T,
    userId: string,
    claim: PaymentKeyClaim,
    create: (tx: EntityManager) => Promise<{ row: RowOf<T>; reply: R }>,
  ): Promise<R> {
    const { key, requestType, hash } = claim;
    const opened = await this.transactions.run(async (tx) => {
      const replay = await this.idempotency.claimAlone<R>(tx, key ? { userId, key, requestType, hash } : undefined);
      if (replay) return { reply: replay.response, id: undefined };
      const { row, reply } = await create(tx);
      this.events.changed(tx, table, row);
      if (key) await this.idempotency.settle(tx, [{ userId, key, response: reply }]);
      return { reply, id: row.id };
    });
    if (opened.id) await this.jobs.enqueue(table, opened.id);
    return opened.reply;
  }
}
