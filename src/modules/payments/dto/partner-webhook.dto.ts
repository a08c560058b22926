// The body of a partner webhook (contract section 6). The amount is read by the service, exactly,
// with the payment's currency.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { required } from '../../../core/http/dto-validators.js';

export class PartnerWebhookDto {
  @ApiProperty({ example: 'evt_0001', description: 'unique per partner: a repeat changes nothing' })
  @Length(1, 128)
  @IsString()
  @required()
  event_id: string;

  @IsIn(['deposit.completed', 'deposit.failed', 'payout.completed', 'payout.failed'], {
    message: 'type must be deposit.completed, deposit.failed, payout.completed or payout.failed',
  })
  @ApiProperty({ enum: ['deposit.completed', 'deposit.failed', 'payout.completed', 'payout.failed'] })
  @required()
  type: 'deposit.completed' | 'deposit.failed' | 'payout.completed' | 'payout.failed';

  @ApiProperty({ example: 'DEP-REQ-20260101-001' })
  @Length(1, 64)
  @IsString()
  @required()
  request_ref: string;

  @ApiProperty({ example: 'SBX-7f3a' })
  @Length(1, 128)
  @IsString()
  @required()
  partner_reference: string;

  @ApiProperty({ example: '100.00', description: "the payment's amount, exactly (number or decimal string)" })
  @Allow()
  @required()
  amount: unknown;

  @ApiProperty({ example: 'KES' })
  @Length(3, 5)
  @IsString()
  @required()
  currency: string;

  /** Partners commonly send `"error": null` on success: null counts as absent here. */
  @ApiPropertyOptional({ example: 'Payment timeout', nullable: true, description: 'why it failed' })
  @MaxLength(500)
  @IsString()
  @IsOptional()
  error?: string | null;
}
