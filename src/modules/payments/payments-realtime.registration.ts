import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RealtimeDirectory } from '../../core/realtime/realtime-directory.js';
import { PaymentReadsService } from './payment-reads.service.js';

const PAYMENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A payment's id is its channel: its owner may join it (contract section 3). */
@Injectable()
export class PaymentsRealtimeRegistration implements OnModuleInit {
  constructor(
    private readonly directory: RealtimeDirectory,
    private readonly reads: PaymentReadsService,
  ) {}

  onModuleInit(): void {
    this.directory.addChannelResolver(async (id) => {
      if (!PAYMENT_ID.test(id)) return null;
      const owner = await this.reads.ownerOfPayment(id);
      return owner ? { ownerId: owner } : null;
    });
  }
}
