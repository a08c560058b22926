// Money-moving requests. Amounts are read by the service (exactly, with the currency's decimals);
// here only their presence is declared.
import { Transform } from 'class-transformer';
import { Allow, IsString, Length, MaxLength } from 'class-validator';
import { IsRowId } from '../../../core/http/row-id.validator.js';
import { currencyCode, optional, required } from '../../../core/http/dto-validators.js';

/** A user id as a decimal string; a JSON integer is accepted too. */
const userIdString = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? String(value) : value,
  );

export class TransferRequestDto {
  @userIdString()
  @IsRowId({ message: 'to_user_id must be a user id' })
  @IsString({ message: 'to_user_id must be a user id' })
  @required()
  to_user_id: string;

  @Allow()
  @required()
  amount: unknown;

  @currencyCode()
  @IsString()
  @required()
  currency: string;

  @MaxLength(255)
  @IsString()
  @optional()
  description?: string;

  @Length(1, 64)
  @IsString()
  @optional()
  idempotency_key?: string;
}

export class ConvertRequestDto {
  @currencyCode()
  @IsString()
  @required()
  from_currency: string;

  @currencyCode()
  @IsString()
  @required()
  to_currency: string;

  @Allow()
  @required()
  amount: unknown;

  /** Credit another user's wallet with the converted amount (default: the sender's own). */
  @userIdString()
  @IsRowId({ message: 'to_user_id must be a user id' })
  @IsString({ message: 'to_user_id must be a user id' })
  @optional()
  to_user_id?: string;

  @MaxLength(255)
  @IsString()
  @optional()
  description?: string;

  @Length(1, 64)
  @IsString()
  @optional()
  idempotency_key?: string;
}
