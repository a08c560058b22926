import { IsIn, IsString, Length, Matches, MaxLength } from 'class-validator';
import type { SandboxRequestKind } from './sandbox.adapter.js';
import { optional, required } from '../../../core/http/dto-validators.js';

/** What a partner is asked to do, as the sandbox adapter sends it. */
export class SandboxPartnerRequestDto {
  @IsIn(['deposit', 'payout'], { message: 'kind must be deposit or payout' })
  @required()
  kind: SandboxRequestKind;

  @Matches(/^[A-Za-z0-9._-]+$/, { message: 'request_ref must be letters, digits, ".", "_" or "-"' })
  @Length(1, 64)
  @IsString()
  @required()
  request_ref: string;

  /** Major units as an exact decimal string ("100.13"). */
  @Matches(/^\d{1,20}(\.\d{1,18})?$/, { message: 'amount must be a decimal string such as "100.13"' })
  @IsString()
  @required()
  amount: string;

  @Matches(/^[A-Z]{3,5}$/, { message: 'currency must be a currency code such as USD' })
  @IsString()
  @required()
  currency: string;

  @MaxLength(256)
  @IsString()
  @optional()
  destination?: string;
}
