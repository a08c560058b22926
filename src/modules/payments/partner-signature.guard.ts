// Admits a partner webhook only with a valid signature over its raw body, by any of the partner's
// current secrets, made less than 300 s ago. Runs before the body is validated, so a forged request
// learns nothing about what a valid body looks like.
import { Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { DomainError } from '../../core/errors/domain-error.js';
import type { RequestWithRawBody } from '../../core/http/configure-http.js';
import { Clock } from '../../core/time/clock.js';
import { PartnerAdapters } from '../partners/partner-adapters.js';
import { PartnersService } from '../partners/partners.service.js';

@Injectable()
export class PartnerSignatureGuard implements CanActivate {
  private readonly logger = new Logger(PartnerSignatureGuard.name);

  constructor(
    private readonly partners: PartnersService,
    private readonly adapters: PartnerAdapters,
    private readonly clock: Clock,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithRawBody>();
    const partnerId = String(request.params.partnerId ?? '');
    const partner = this.partners.find(partnerId);
    const valid =
      partner !== undefined &&
      (await this.adapters
        .for(partner.id)
        .verifyWebhook(partner, request.headers, request.rawBody ?? Buffer.alloc(0), this.clock.now()));
    if (!valid) {
      this.logger.warn({ partner_id: partnerId.slice(0, 64) }, 'partner webhook refused: bad signature');
      throw new DomainError('UNAUTHORIZED', 'invalid webhook signature');
    }
    return true;
  }
}
