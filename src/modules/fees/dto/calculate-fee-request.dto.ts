import { Allow, IsIn, IsString, Matches } from 'class-validator';
import { TRANSACTION_TYPES, type FeeTransactionType } from '../../../core/config/business-config.js';
import { optional, required } from '../../../core/http/dto-validators.js';

export class CalculateFeeRequestDto {
  @IsIn(TRANSACTION_TYPES, { message: `transaction_type must be one of ${TRANSACTION_TYPES.join(', ')}` })
  @required()
  transaction_type: FeeTransactionType;

  @Allow()
  @required()
  amount: unknown;

  @Matches(/^[A-Z]{3,5}$/, { message: 'source_currency must be a currency code such as USD' })
  @IsString()
  @required()
  source_currency: string;

  /** Required for conversion. */
  @Matches(/^[A-Z]{3,5}$/, { message: 'target_currency must be a currency code such as EUR' })
  @IsString()
  @optional()
  target_currency?: string;
}
