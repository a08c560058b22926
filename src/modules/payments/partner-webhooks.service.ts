// Applies a verified partner event once: the event_id is claimed (unique per partner) in the same
// transaction as the payment's guarded status change and its posting. Twenty copies at once: one
// inserts, the others wait on the unique index and then find it taken.
import { Injectable } from '@nestjs/common';
import { sql } from '../../core/database/sql.js';
import { DepositsService } from './deposits.service.js';
import type { PartnerWebhookDto } from './dto/partner-webhook.dto.js';
import type { WebhookOutcome } from './payments.types.js';
import { WithdrawalsService } from './withdrawals.service.js';
import { Transactions } from '../../core/database/transactions.js';

@Injectable()
export class PartnerWebhooksService {
  constructor(
    private readonly transactions: Transactions,
    private readonly deposits: DepositsService,
    private readonly withdrawals: WithdrawalsService,
  ) {}

  async receive(partnerId: string, event: PartnerWebhookDto): Promise<WebhookOutcome | 'duplicate'> {
    return this.transactions.run(async (tx) => {
      const { rows } = await sql<{ id: string }>(
        tx,
        `INSERT INTO webhook_events (partner_id, event_id, type, request_ref, payload, outcome)
         VALUES ($1, $2, $3, $4, $5, 'applied')
         ON CONFLICT (partner_id, event_id) DO NOTHING RETURNING id`,
        [partnerId, event.event_id, event.type, event.request_ref, JSON.stringify(event)],
      );
      if (!rows[0]) return 'duplicate';
      const outcome = event.type.startsWith('deposit.')
        ? await this.deposits.settle(tx, partnerId, event)
        : await this.withdrawals.settle(tx, partnerId, event);
      if (outcome === 'ignored') {
        await sql(tx, `UPDATE webhook_events SET outcome = 'ignored' WHERE id = $1`, [rows[0].id]);
      }
      return outcome;
    });
  }
}
