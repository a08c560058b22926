// The per-user request budget (contract section 2: at most N requests per minute per user, from
// config/plans.json) applied to authenticated HTTP requests, counted together with the user's
// socket messages. Runs after authentication (it is registered after the JWT guard). Public routes
// have no user to count; administrators are not budgeted (operators' tooling, audited).
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { AuthUser } from '../auth/auth.types.js';
import { DomainError } from '../errors/domain-error.js';
import { RealtimeLimits } from '../realtime/realtime-limits.service.js';
import { AppConfig } from '../config/app-config.js';

@Injectable()
export class RequestBudgetGuard implements CanActivate {
  constructor(
    private readonly limits: RealtimeLimits,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const user = context.switchToHttp().getRequest<Request & { user?: AuthUser }>().user;
    if (!user || user.role === 'admin') return true;
    const verdict = await this.limits.checkRequest(user.id);
    if (verdict.allowed) return true;
    throw new DomainError(
      'RATE_LIMIT_EXCEEDED',
      `rate limit exceeded: at most ${this.config.business.requestsPerMinute} requests per minute`,
      { data: { retry_after: verdict.retryAfter } },
    );
  }
}
