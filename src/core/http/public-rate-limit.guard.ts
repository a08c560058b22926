// Public routes that anyone may call (market data) are budgeted per client address, in Redis
// across instances: PUBLIC_REQUESTS_PER_MINUTE, then 429 RATE_LIMIT_EXCEEDED with retry_after.
import { Injectable, UseGuards, applyDecorators, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { Public } from '../auth/auth.decorators.js';
import { AppConfig } from '../config/app-config.js';
import { DomainError } from '../errors/domain-error.js';
import { RealtimeLimits } from '../realtime/realtime-limits.service.js';

@Injectable()
export class PublicRateLimitGuard implements CanActivate {
  constructor(
    private readonly limits: RealtimeLimits,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const perMinute = this.config.env.PUBLIC_REQUESTS_PER_MINUTE;
    const verdict = await this.limits.checkRequest(`address:${request.ip ?? 'unknown'}`, perMinute);
    if (verdict.allowed) return true;
    throw new DomainError('RATE_LIMIT_EXCEEDED', `rate limit exceeded: at most ${perMinute} requests per minute`, {
      data: { retry_after: verdict.retryAfter },
    });
  }
}

/** A public route, budgeted per client address. */
export const PublicRateLimited = () => applyDecorators(Public(), UseGuards(PublicRateLimitGuard));
