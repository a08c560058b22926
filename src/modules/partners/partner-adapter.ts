// The one interface every payment partner is reached through. The worker's processors call
// requestDeposit / requestPayout (never the API inline); the webhook controller calls verifyWebhook.
import type { Partner } from './partners.types.js';

export interface PartnerDepositRequest {
  /** Our reference (DEP-REQ-...); the partner echoes it in its webhook. */
  requestRef: string;
  amountMinor: bigint;
  currency: string;
  partnerId: string;
}

export interface PartnerPayoutRequest extends PartnerDepositRequest {
  /** Phone number, account or address the partner pays out to. */
  destination: string;
}

export interface PartnerAcceptance {
  /** The partner's own reference for the request. */
  partnerReference: string;
}

export type WebhookHeaders = Record<string, string | string[] | undefined>;

export interface PartnerAdapter {
  /**
   * Asks the partner to collect a deposit. Resolves once the partner has accepted it (the outcome
   * arrives later by webhook); throws PartnerRequestError otherwise, so the job retries.
   */
  requestDeposit(request: PartnerDepositRequest): Promise<PartnerAcceptance>;
  /** Asks the partner to pay out a withdrawal; same contract as requestDeposit. */
  requestPayout(request: PartnerPayoutRequest): Promise<PartnerAcceptance>;
  /** True when the webhook really comes from `partner` (header names are lower case, as Node gives them). */
  verifyWebhook(partner: Partner, headers: WebhookHeaders, rawBody: Buffer, now: Date): Promise<boolean>;
}

/** A partner request that did not go through. `retryable` false: trying again cannot help. */
export class PartnerRequestError extends Error {
  constructor(
    readonly partnerId: string,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PartnerRequestError';
  }
}
