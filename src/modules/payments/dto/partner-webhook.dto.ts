// The body of a partner webhook (contract section 6). The amount is read by the service, exactly,
// with the payment's currency.
import { Allow, IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { required } from '../../../core/http/dto-validators.js';

export class PartnerWebhookDto {
  @Length(1, 128)
  @IsString()
  @required()
  event_id: string;

  @IsIn(['deposit.completed', 'deposit.failed', 'payout.completed', 'payout.failed'], {
    message: 'type must be deposit.completed, deposit.failed, payout.completed or payout.failed',
  })
  @required()
  type: 'deposit.completed' | 'deposit.failed' | 'payout.completed' | 'payout.failed';

  @Length(1, 64)
  @IsString()
  @required()
  request_ref: string;

  @Length(1, 128)
  @IsString()
  @required()
  partner_reference: string;

  @Allow()
  @required()
  amount: unknown;

  @Length(3, 5)
  @IsString()
  @required()
  currency: string;

  /** Partners commonly send `"error": null` on success: null counts as absent here. */
  @MaxLength(500)
  @IsString()
  @IsOptional()
  error?: string | null;
}
