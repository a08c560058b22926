import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, Length, Matches, MaxLength } from 'class-validator';
import type { SandboxRequestKind } from './sandbox.adapter.js';
import { optional, required } from '../../../core/http/dto-validators.js';

/** What a partner is asked to do, as the sandbox adapter sends it. */
export class SandboxPartnerRequestDto {
  @ApiProperty({ enum: ['deposit', 'payout'] })
  @IsIn(['deposit', 'payout'], { message: 'kind must be deposit or payout' })
  @required()
  kind: SandboxRequestKind;

  @ApiProperty({ example: 'DEP-REQ-20260101-001' })
  @Matches(/^[A-Za-z0-9._-]+$/, { message: 'request_ref must be letters, digits, ".", "_" or "-"' })
  @Length(1, 64)
  @IsString()
  @required()
  request_ref: string;

  /** Major units as an exact decimal string ("100.13"). */
  @ApiProperty({ example: '100.13', description: 'major units, an exact decimal string' })
  @Matches(/^\d{1,20}(\.\d{1,18})?$/, { message: 'amount must be a decimal string such as "100.13"' })
  @IsString()
  @required()
  amount: string;

  @ApiProperty({ example: 'KES' })
  @Matches(/^[A-Z]{3,5}$/, { message: 'currency must be a currency code such as USD' })
  @IsString()
  @required()
  currency: string;

  @ApiPropertyOptional({ example: '+254712345678', description: 'payouts: where the money goes' })
  @MaxLength(256)
  @IsString()
  @optional()
  destination?: string;
}
