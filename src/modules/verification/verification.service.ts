// The verification requests of `/user` (seed 000 "Verification Operations"): reads what a request
// binds and hands it to OTP or TOTP.
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { amountOf, currencyOf } from '../accounts/money-input.js';
import type { VerificationRequestDto } from './dto/verification-requests.dto.js';
import { OtpService, type OtpSent } from './otp.service.js';
import { TotpService, type TotpRequested } from './totp.service.js';
import type { IssuedToken, TokenBinding, VerificationPurpose } from './verification.types.js';

export type RequestOutcome = { message: string; data: OtpSent | TotpRequested };

const CHANNEL_WORD = { email: 'email', sms: 'SMS', whatsapp: 'WhatsApp' } as const;

@Injectable()
export class VerificationService {
  constructor(
    private readonly config: AppConfig,
    private readonly otp: OtpService,
    private readonly totp: TotpService,
  ) {}

  async request(userId: string, request: VerificationRequestDto): Promise<RequestOutcome> {
    const binding = this.bindingOf(request);
    if (request.method === 'totp') {
      return {
        message: '2FA enabled.  Please provide your TOTP code',
        data: await this.totp.request(userId, request.purpose, binding),
      };
    }
    const sent = await this.otp.request(userId, request.method, request.purpose, binding);
    return { message: `OTP sent to ${sent.recipient} via ${CHANNEL_WORD[sent.channel]}`, data: sent };
  }

  verifyOtp(userId: string, code: string, purpose: VerificationPurpose): Promise<IssuedToken> {
    return this.otp.verify(userId, code, purpose);
  }

  verifyTotp(userId: string, code: string, purpose: VerificationPurpose): Promise<IssuedToken> {
    return this.totp.verify(userId, code, purpose);
  }

  /** amount needs currency (its decimals); destination stands alone. */
  private bindingOf(request: VerificationRequestDto): TokenBinding {
    const binding: TokenBinding = {};
    if (request.currency !== undefined) binding.currency = currencyOf(this.config, request.currency).code;
    if (request.amount !== undefined && request.amount !== null) {
      if (request.currency === undefined) throw DomainError.validation('currency', 'currency is required with amount');
      binding.amount = amountOf(request.amount, currencyOf(this.config, request.currency));
    }
    if (request.destination !== undefined) {
      const destination = request.destination.trim();
      if (!destination) throw DomainError.validation('destination', 'destination must not be blank');
      binding.destination = destination;
    }
    return binding;
  }
}
