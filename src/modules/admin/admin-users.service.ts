import { Injectable } from '@nestjs/common';
import { SessionService } from '../../core/auth/session.service.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { RealtimeControl } from '../../core/realtime/realtime-control.js';
import { AuditService } from '../audit/audit.service.js';
import { UsersService } from '../users/users.service.js';
import { Transactions } from '../../core/database/transactions.js';

@Injectable()
export class AdminUsersService {
  constructor(
    private readonly transactions: Transactions,
    private readonly users: UsersService,
    private readonly sessions: SessionService,
    private readonly control: RealtimeControl,
    private readonly audit: AuditService,
  ) {}

  /** Every session revoked (tokens refused everywhere), every socket told `force_logout` and closed. */
  async forceLogout(actorId: string, userId: string): Promise<{ user_id: string; sessions_revoked: number }> {
    if (!(await this.users.findById(userId))) throw new DomainError('NOT_FOUND', 'user not found', { field: 'id' });
    const revoked = await this.sessions.revokeAllForUser(userId, 'admin');
    await this.control.closeUser(userId, 'revoked');
    await this.transactions.run((tx) =>
      this.audit.record(tx, {
        actorId,
        action: 'user.force_logout',
        target: `user:${userId}`,
        details: { sessions_revoked: revoked },
      }),
    );
    return { user_id: userId, sessions_revoked: revoked };
  }
}
