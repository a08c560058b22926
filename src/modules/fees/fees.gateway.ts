import { MessageBody } from '@nestjs/websockets';
import { AppConfig } from '../../core/config/app-config.js';
import { DomainError } from '../../core/errors/domain-error.js';
import type { RequestResult } from '../../core/realtime/ws-envelope.js';
import { UserGateway, UserRequest } from '../../core/realtime/ws-requests.js';
import { toMajor } from '../../shared/money.js';
import { amountOf, currencyOf } from '../accounts/money-input.js';
import type { FeeTransactionType } from '../../core/config/business-config.js';
import { CalculateFeeRequestDto } from './dto/calculate-fee-request.dto.js';
import { FeesService } from './fees.service.js';

export interface FeeQuoteReply {
  fee_type: 'FEE_TYPE_PLATFORM';
  /** The fee, in the source currency. */
  amount: number;
  currency: string;
  applied_rate: string;
  fixed: number;
  transaction_type: FeeTransactionType;
}

/** The requests this gateway answers: their bodies and replies (declared in UserRequestMap). */
export interface FeesRequests {
  calculate_fee: { body: CalculateFeeRequestDto; reply: FeeQuoteReply };
}

declare module '../../core/realtime/user-requests.js' {
  interface UserRequestMap extends FeesRequests {}
}

@UserGateway()
export class FeesGateway {
  constructor(
    private readonly fees: FeesService,
    private readonly config: AppConfig,
  ) {}

  /** The fee the operation will charge, from the same schedule the operation uses. */
  @UserRequest('calculate_fee')
  calculate(@MessageBody() body: CalculateFeeRequestDto): RequestResult<FeeQuoteReply> {
    const currency = currencyOf(this.config, body.source_currency, 'source_currency');
    if (body.transaction_type === 'conversion') {
      if (!body.target_currency) {
        throw DomainError.validation('target_currency', 'target_currency is required for conversion');
      }
      currencyOf(this.config, body.target_currency, 'target_currency');
      if (body.target_currency === currency.code) {
        throw DomainError.validation('target_currency', 'target_currency must differ from source_currency');
      }
    }
    const amount = amountOf(body.amount, currency);
    const quote = this.fees.quote(body.transaction_type, amount, currency.code);
    return {
      message: 'fee calculated',
      data: {
        fee_type: 'FEE_TYPE_PLATFORM' as const,
        amount: toMajor(quote.fee, currency.decimals),
        currency: currency.code,
        applied_rate: quote.appliedRate,
        fixed: toMajor(quote.rule.fixedMinor, currency.decimals),
        transaction_type: body.transaction_type,
      },
    };
  }
}
