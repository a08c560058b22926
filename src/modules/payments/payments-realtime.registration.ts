import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RealtimeDirectory } from '../../core/realtime/realtime-directory.js';
import { DepositsService } from './deposits.service.js';
import { WithdrawalsService } from './withdrawals.service.js';

const PAYMENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A payment's id is its channel: its owner may join it (contract section 3). */
@Injectable()
export class PaymentsRealtimeRegistration implements OnModuleInit {
  constructor(
    private readonly directory: RealtimeDirectory,
    private readonly deposits: DepositsService,
    private readonly withdrawals: WithdrawalsService,
  ) {}

  onModuleInit(): void {
    this.directory.addChannelResolver(async (id) => {
      if (!PAYMENT_ID.test(id)) return null;
      const owner = (await this.deposits.ownerOfPayment(id)) ?? (await this.withdrawals.ownerOfPayment(id));
      return owner ? { ownerId: owner } : null;
    });
  }
}
