// The adapter of the sandbox partners: a real HTTP round trip to the sandbox partner endpoint
// (SandboxPartnerController, in the API process), which answers later with a signed webhook.
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../../core/config/app-config.js';
import { unixSeconds } from '../../../core/time/clock.js';
import { toDecimalString } from '../../../shared/money.js';
import { LocalUrls } from '../local-urls.js';
import {
  PartnerRequestError,
  type PartnerAcceptance,
  type PartnerAdapter,
  type PartnerDepositRequest,
  type PartnerPayoutRequest,
  type WebhookHeaders,
} from '../partner-adapter.js';
import { PartnersService } from '../partners.service.js';
import type { Partner } from '../partners.types.js';
import { verifyWebhookSignature } from '../webhook-signature.js';

/** A partner that has not answered by then is treated as down (the job retries). */
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_REFERENCE_LENGTH = 128;

export const SIGNATURE_HEADER = 'x-signature';

export type SandboxRequestKind = 'deposit' | 'payout';

/** The body the sandbox partner endpoint takes. */
export interface SandboxRequestBody {
  kind: SandboxRequestKind;
  request_ref: string;
  /** Major units, exact: "100.13". */
  amount: string;
  currency: string;
  destination?: string;
}

export const sandboxRequestPath = (partnerId: string) =>
  `/api/v1/sandbox/partners/${encodeURIComponent(partnerId)}/requests`;

@Injectable()
export class SandboxPartnerAdapter implements PartnerAdapter {
  constructor(
    private readonly config: AppConfig,
    private readonly urls: LocalUrls,
    private readonly partners: PartnersService,
  ) {}

  async requestDeposit(request: PartnerDepositRequest): Promise<PartnerAcceptance> {
    return this.send(request.partnerId, { kind: 'deposit', ...this.common(request) });
  }

  async requestPayout(request: PartnerPayoutRequest): Promise<PartnerAcceptance> {
    return this.send(request.partnerId, { kind: 'payout', ...this.common(request), destination: request.destination });
  }

  verifyWebhook(partner: Partner, headers: WebhookHeaders, rawBody: Buffer, now: Date): Promise<boolean> {
    const header = headers[SIGNATURE_HEADER];
    const secrets = this.partners.secrets(partner.id);
    // A repeated header arrives as an array: refused, as is anything but exactly one signature.
    const valid = typeof header === 'string' && verifyWebhookSignature(secrets, header, rawBody, unixSeconds(now));
    return Promise.resolve(valid);
  }

  private common(request: PartnerDepositRequest): Omit<SandboxRequestBody, 'kind'> {
    const currency = this.config.business.currencies.get(request.currency);
    if (!currency) {
      throw new PartnerRequestError(request.partnerId, `unknown currency ${request.currency}`, false);
    }
    if (request.amountMinor <= 0n) {
      throw new PartnerRequestError(request.partnerId, 'the amount must be greater than zero', false);
    }
    return {
      request_ref: request.requestRef,
      amount: toDecimalString(request.amountMinor, currency.decimals),
      currency: currency.code,
    };
  }

  private async send(partnerId: string, body: SandboxRequestBody): Promise<PartnerAcceptance> {
    const url = `${this.urls.sandboxUrl()}${sandboxRequestPath(partnerId)}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      text = await response.text();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new PartnerRequestError(partnerId, `sandbox partner unreachable at ${url}: ${reason}`, true, undefined, {
        cause: error,
      });
    }
    if (!response.ok) {
      // 5xx and 429 are the partner's trouble and may pass; any other refusal will not.
      const retryable = response.status >= 500 || response.status === 429;
      throw new PartnerRequestError(
        partnerId,
        `sandbox partner refused the ${body.kind} with ${response.status}: ${text.slice(0, 300)}`,
        retryable,
        response.status,
      );
    }
    let reference: unknown;
    try {
      reference = (JSON.parse(text) as { partner_reference?: unknown }).partner_reference;
    } catch {
      reference = undefined;
    }
    if (typeof reference !== 'string' || reference.length === 0 || reference.length > MAX_REFERENCE_LENGTH) {
      throw new PartnerRequestError(partnerId, 'sandbox partner answered without a partner_reference', true);
    }
    return { partnerReference: reference };
  }
}
