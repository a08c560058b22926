// Payment partners: seeded from config/partners.json at start-up, then answered from memory (the
// table changes only when a process starts with another configuration). Deposits and withdrawals
// ask here which partner serves them; webhooks ask for the partner's secrets.
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config.js';
import { activePartnersOf, pickPartner } from './partner-picking.js';
import { SANDBOX_ADAPTER, sandboxEnabled, webhookSecretsFor } from './partner-secrets.js';
import { partnerErrors } from './partners.errors.js';
import { PartnersRepository, type PartnerRow, type PartnerSeed, type SyncResult } from './partners.repository.js';
import type { Partner } from './partners.types.js';

@Injectable()
export class PartnersService implements OnModuleInit {
  private readonly logger = new Logger(PartnersService.name);
  private partners = new Map<string, Partner>();
  private secretsById = new Map<string, readonly string[]>();

  constructor(
    private readonly repository: PartnersRepository,
    private readonly config: AppConfig,
  ) {}

  /** Before any module that depends on this one starts (processors, webhooks), the table is seeded. */
  async onModuleInit(): Promise<void> {
    await this.sync();
  }

  /**
   * Upserts the configured partners with their secrets, marks the others inactive, and reloads.
   * Sandbox partners are inactive in production, where the sandbox is off.
   */
  async sync(): Promise<Pick<SyncResult, 'changed' | 'deactivated'>> {
    const { env, business } = this.config;
    const seeds: PartnerSeed[] = business.partners.map((p) => ({
      id: p.id,
      name: p.name,
      service: p.service,
      country: p.country,
      currencies: [...p.currencies],
      adapter: p.adapter,
      status: p.adapter === SANDBOX_ADAPTER && !sandboxEnabled(env) ? 'inactive' : 'active',
      webhookSecrets: webhookSecretsFor(p, env),
    }));
    const result = await this.repository.sync(seeds, env.PARTNER_WEBHOOK_SECRETS ?? {});
    this.load(result.rows);
    const unknown = Object.keys(env.PARTNER_WEBHOOK_SECRETS ?? {}).filter((id) => !this.partners.has(id));
    if (unknown.length) this.logger.warn({ partners: unknown }, 'PARTNER_WEBHOOK_SECRETS names unknown partners');
    for (const seed of seeds) {
      if (seed.status === 'active' && seed.webhookSecrets.length === 0) {
        this.logger.warn({ partner: seed.id }, 'partner has no webhook secret: its webhooks will all be refused');
      }
    }
    const { changed, deactivated } = result;
    if (changed.length || deactivated.length) this.logger.log({ changed, deactivated }, 'partners synced');
    return { changed, deactivated };
  }

  /** Re-reads the table (every partner, active or not). */
  async reload(): Promise<void> {
    this.load(await this.repository.all());
  }

  private load(rows: readonly PartnerRow[]): void {
    this.partners = new Map(
      rows.map((r) => [
        r.id,
        Object.freeze({
          id: r.id,
          name: r.name,
          service: r.service,
          country: r.country,
          currencies: Object.freeze([...r.currencies]),
          adapter: r.adapter,
          status: r.status,
        }),
      ]),
    );
    this.secretsById = new Map(rows.map((r) => [r.id, Object.freeze([...r.webhook_secrets])]));
  }

  /** The active partners of `service`, in id order; UNSUPPORTED_SERVICE for a service never offered. */
  listActive(service: string): Partner[] {
    return activePartnersOf(this.partners.values(), service);
  }

  /** An active partner; PARTNER_NOT_FOUND or PARTNER_INACTIVE otherwise. */
  get(partnerId: string): Partner {
    const partner = this.find(partnerId);
    if (!partner) throw partnerErrors.notFound(partnerId);
    if (partner.status !== 'active') throw partnerErrors.inactive(partner);
    return partner;
  }

  /** Any known partner, active or not (late webhooks of a retired partner still name it). */
  find(partnerId: string): Partner | undefined {
    return this.partners.get(partnerId);
  }

  /**
   * The partner that serves `service` in `currency`: the named one if it qualifies, else the first
   * active one (by id). `service` may be omitted (a withdrawal without one). Refusals:
   * UNSUPPORTED_SERVICE, PARTNER_NOT_FOUND, PARTNER_INACTIVE, PARTNER_SERVICE_MISMATCH,
   * UNSUPPORTED_CURRENCY, each naming the request field at fault.
   */
  pick(service: string | undefined, currency: string, partnerId?: string): Partner {
    return pickPartner(this.partners.values(), { service, currency, partnerId });
  }

  /** Every secret that verifies this partner's webhooks (several during a rotation; may be none). */
  secrets(partnerId: string): readonly string[] {
    const secrets = this.secretsById.get(partnerId);
    if (!secrets) throw partnerErrors.notFound(partnerId);
    return secrets;
  }
}
