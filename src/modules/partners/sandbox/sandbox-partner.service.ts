// The sandbox partners themselves (contract section 6): they accept a request at once, then after
// SANDBOX_DELAY_MS POST a signed webhook with the outcome to WEBHOOK_BASE_URL, as a real partner
// would. An amount whose cents are 13 fails with "Payment timeout"; everything else succeeds.
// Every pending delay and delivery is tracked, and dropped when the application shuts down.
import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../../../core/config/app-config.js';
import { DomainError } from '../../../core/errors/domain-error.js';
import { Clock, unixSeconds } from '../../../core/time/clock.js';
import { AmountError, parseAmount, toDecimalString } from '../../../shared/money.js';
import { LocalUrls } from '../local-urls.js';
import { SANDBOX_ADAPTER, sandboxWebhookSecret } from '../partner-secrets.js';
import { partnerErrors } from '../partners.errors.js';
import { PartnersService } from '../partners.service.js';
import { signWebhook } from '../webhook-signature.js';
import { SIGNATURE_HEADER, type SandboxRequestBody } from './sandbox.adapter.js';

export const SANDBOX_FAILURE_CENTS = 13n;
export const SANDBOX_FAILURE_REASON = 'Payment timeout';

/** Delivery attempts of one webhook (network errors and 5xx), with doubling pauses between. */
const DELIVERY_ATTEMPTS = 5;
const FIRST_RETRY_MS = 200;
const DELIVERY_TIMEOUT_MS = 10_000;
/** Requests remembered for de-duplication (the oldest are forgotten first). */
const MAX_REMEMBERED = 10_000;

export type SandboxEventType = 'deposit.completed' | 'deposit.failed' | 'payout.completed' | 'payout.failed';

export interface SandboxWebhookEvent {
  event_id: string;
  type: SandboxEventType;
  request_ref: string;
  partner_reference: string;
  amount: string;
  currency: string;
  error?: string;
}

@Injectable()
export class SandboxPartnerService implements OnModuleDestroy {
  private readonly logger = new Logger(SandboxPartnerService.name);
  /** partner/kind/request_ref → partner reference: a repeated request (a retried job) is the same request. */
  private readonly accepted = new Map<string, string>();
  private readonly waits = new Map<NodeJS.Timeout, () => void>();
  private readonly inFlight = new Set<AbortController>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly config: AppConfig,
    private readonly partners: PartnersService,
    private readonly urls: LocalUrls,
    private readonly clock: Clock,
  ) {}

  /** Accepts a request and schedules its webhook; the answer is the partner's reference. */
  accept(partnerId: string, request: SandboxRequestBody): { partner_reference: string } {
    const partner = this.partners.find(partnerId);
    if (!partner || partner.adapter !== SANDBOX_ADAPTER) throw partnerErrors.notFound(partnerId);
    if (!partner.currencies.includes(request.currency)) {
      throw partnerErrors.currencyNotServed(partner, request.currency);
    }
    const currency = this.config.business.currencies.get(request.currency)!;
    let amountMinor: bigint;
    try {
      amountMinor = parseAmount(request.amount, currency);
    } catch (error) {
      if (error instanceof AmountError) throw DomainError.validation(error.field, error.message);
      throw error;
    }
    if (this.closed) throw new DomainError('SERVICE_UNAVAILABLE', 'the sandbox partner is shutting down');

    const key = `${partnerId}/${request.kind}/${request.request_ref}`;
    const known = this.accepted.get(key);
    if (known) return { partner_reference: known };
    const reference = `SBX-${randomUUID()}`;
    this.remember(key, reference);

    const failed = centsOf(amountMinor, currency.decimals) === SANDBOX_FAILURE_CENTS;
    const event: SandboxWebhookEvent = {
      event_id: randomUUID(),
      type: `${request.kind}.${failed ? 'failed' : 'completed'}`,
      request_ref: request.request_ref,
      partner_reference: reference,
      amount: toDecimalString(amountMinor, currency.decimals),
      currency: currency.code,
      ...(failed ? { error: SANDBOX_FAILURE_REASON } : {}),
    };
    this.track(this.answerLater(partnerId, key, event));
    return { partner_reference: reference };
  }

  /** Pending webhooks (waiting or being delivered). */
  get pending(): number {
    return this.running.size;
  }

  /** Stops every pending delay and delivery; nothing is sent after this. */
  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    for (const [timer, wake] of this.waits) {
      clearTimeout(timer);
      wake();
    }
    this.waits.clear();
    for (const controller of this.inFlight) controller.abort();
    await Promise.allSettled([...this.running]);
  }

  private async answerLater(partnerId: string, key: string, event: SandboxWebhookEvent): Promise<void> {
    await this.sleep(this.config.env.SANDBOX_DELAY_MS);
    const delivered = await this.deliver(partnerId, event);
    // An undelivered outcome is forgotten, so the request sent again is answered again.
    if (!delivered && this.accepted.get(key) === event.partner_reference) this.accepted.delete(key);
  }

  private async deliver(partnerId: string, event: SandboxWebhookEvent): Promise<boolean> {
    const secret = sandboxWebhookSecret(this.config.env);
    if (secret === undefined) return false;
    const url = `${this.urls.webhookBaseUrl()}/api/v1/webhooks/partners/${encodeURIComponent(partnerId)}`;
    const body = JSON.stringify(event);
    const context = { partner: partnerId, event_id: event.event_id, type: event.type, request_ref: event.request_ref };
    for (let attempt = 1; attempt <= DELIVERY_ATTEMPTS && !this.closed; attempt += 1) {
      const controller = new AbortController();
      this.inFlight.add(controller);
      try {
        // Signed at each attempt: a retry later than the tolerance must not carry a stale t.
        const signature = signWebhook(secret, unixSeconds(this.clock.now()), body);
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
          body,
          signal: AbortSignal.any([controller.signal, AbortSignal.timeout(DELIVERY_TIMEOUT_MS)]),
        });
        await response.arrayBuffer();
        if (response.ok) {
          this.logger.debug({ ...context, attempt }, 'sandbox webhook delivered');
          return true;
        }
        if (response.status < 500) {
          this.logger.warn({ ...context, status: response.status }, 'sandbox webhook refused; not retried');
          return false;
        }
        this.logger.warn({ ...context, attempt, status: response.status }, 'sandbox webhook failed');
      } catch (error) {
        if (this.closed) return false;
        this.logger.warn({ ...context, attempt, err: error }, 'sandbox webhook not delivered');
      } finally {
        this.inFlight.delete(controller);
      }
      if (attempt < DELIVERY_ATTEMPTS) await this.sleep(FIRST_RETRY_MS * 2 ** (attempt - 1));
    }
    if (!this.closed) this.logger.error(context, 'sandbox webhook given up');
    return false;
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.logger.error({ err: error }, 'sandbox partner failed'));
    const done = tracked.finally(() => this.running.delete(done));
    this.running.add(done);
  }

  /** A pause that shutdown ends early. */
  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waits.delete(timer);
        resolve();
      }, ms);
      this.waits.set(timer, resolve);
    });
  }

  private remember(key: string, reference: string): void {
    if (this.accepted.size >= MAX_REMEMBERED) this.accepted.delete(this.accepted.keys().next().value!);
    this.accepted.set(key, reference);
  }
}

/** The first two decimal places of an amount ("100.13" → 13); 0 for currencies without cents. */
export function centsOf(amountMinor: bigint, decimals: number): bigint {
  if (decimals < 2) return 0n;
  return (amountMinor / 10n ** BigInt(decimals - 2)) % 100n;
}
