// The dead man's switch (contract section 5): an order placed with cancel_on_disconnect is
// cancelled once the last socket of its session has been gone for 10 s, on whichever instance it
// was. Connections are registered per session in Redis (RealtimeLimits); the worker sweeps the
// sessions that have such orders every second. A socket of the session back in time keeps them;
// sockets of a crashed instance count as gone once their registrations lapse.
import { Injectable, Logger } from '@nestjs/common';
import { RealtimeLimits } from '../../core/realtime/realtime-limits.service.js';
import { OrdersRepository } from './orders.repository.js';
import { OrdersService } from './orders.service.js';

/** How long a session may be without a socket before its orders go. */
export const DISCONNECT_GRACE_MS = 10_000;

@Injectable()
export class DeadManSwitch {
  private readonly logger = new Logger(DeadManSwitch.name);

  constructor(
    private readonly repository: OrdersRepository,
    private readonly orders: OrdersService,
    private readonly limits: RealtimeLimits,
  ) {}

  /** Cancels the orders of every session gone long enough; returns how many. */
  async sweep(): Promise<number> {
    let cancelled = 0;
    for (const session of await this.repository.disconnectSessions()) {
      const absent = await this.limits.sessionAbsence(session);
      if (absent === null || absent < DISCONNECT_GRACE_MS) continue;
      const orders = await this.orders.cancelForDisconnect(session);
      if (orders.length > 0) this.logger.log({ orders: orders.length }, 'orders cancelled: their session disconnected');
      cancelled += orders.length;
    }
    return cancelled;
  }
}
