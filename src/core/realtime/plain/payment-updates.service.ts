// What seed 002's REST beside `/ws` answers (payment-updates.controller.ts): the test push to the
// caller's own `/ws` connections, this instance's health, and that endpoint's diagnostics.
import { Injectable } from '@nestjs/common';
import { RealtimeConnections } from '../realtime-connections.service.js';
import { RealtimeDiagnostics, type ConnectionView } from '../realtime-diagnostics.js';
import { PAYMENT_UPDATES_PATH, TEST_NOTIFICATION_EVENT } from './endpoints/payment-updates.js';

export interface TestNotification {
  PaymentId: string;
  Status: string;
  Amount: number;
  OrderReferenceId?: string;
}

export interface PaymentUpdatesHealth {
  status: 'healthy' | 'draining';
  endpoint: string;
  connections: number;
  timestamp: number;
}

@Injectable()
export class PaymentUpdatesService {
  constructor(
    private readonly connections: RealtimeConnections,
    private readonly diagnostics: RealtimeDiagnostics,
  ) {}

  /** Pushes a payment-update frame marked Test to the user's `/ws` connections, on every instance. */
  async testNotification(userId: string, body: TestNotification): Promise<{ message: string; delivered: number }> {
    const frame = {
      PaymentId: body.PaymentId,
      Status: body.Status,
      Amount: body.Amount,
      OrderReferenceId: body.OrderReferenceId ?? null,
      Test: true,
    };
    const delivered = await this.connections.emitToEndpoint(
      userId,
      PAYMENT_UPDATES_PATH,
      TEST_NOTIFICATION_EVENT,
      frame,
    );
    return { message: delivered > 0 ? 'test notification sent' : 'no open /ws connection of yours', delivered };
  }

  /** Whether this instance takes `/ws` connections, and how many it holds. */
  health(): PaymentUpdatesHealth {
    return {
      status: this.connections.isDraining ? 'draining' : 'healthy',
      endpoint: PAYMENT_UPDATES_PATH,
      connections: this.connections.localCount(PAYMENT_UPDATES_PATH),
      timestamp: Math.floor(Date.now() / 1000),
    };
  }

  stats(): Promise<Record<string, unknown>> {
    return this.diagnostics.stats(PAYMENT_UPDATES_PATH);
  }

  connectionsOf(): Promise<{ user_ids: string[]; connections: ConnectionView[]; count: number }> {
    return this.diagnostics.connectionList(PAYMENT_UPDATES_PATH);
  }
}
