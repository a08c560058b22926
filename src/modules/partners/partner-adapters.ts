// The adapter each partner is reached through, by the `adapter` of its row.
import { Injectable } from '@nestjs/common';
import { PartnerRequestError, type PartnerAdapter } from './partner-adapter.js';
import { SANDBOX_ADAPTER } from './partner-secrets.js';
import { partnerErrors } from './partners.errors.js';
import { PartnersService } from './partners.service.js';
import { SandboxPartnerAdapter } from './sandbox/sandbox.adapter.js';

@Injectable()
export class PartnerAdapters {
  private readonly adapters: ReadonlyMap<string, PartnerAdapter>;

  constructor(
    private readonly partners: PartnersService,
    sandbox: SandboxPartnerAdapter,
  ) {
    this.adapters = new Map<string, PartnerAdapter>([[SANDBOX_ADAPTER, sandbox]]);
  }

  /**
   * The adapter of any known partner, active or not: a payment already under way finishes with
   * the partner it started with. PARTNER_NOT_FOUND for an unknown partner; a non-retryable
   * PartnerRequestError for an adapter this build does not have.
   */
  for(partnerId: string): PartnerAdapter {
    const partner = this.partners.find(partnerId);
    if (!partner) throw partnerErrors.notFound(partnerId);
    const adapter = this.adapters.get(partner.adapter);
    if (!adapter) throw new PartnerRequestError(partnerId, `no adapter named ${partner.adapter}`, false);
    return adapter;
  }
}
