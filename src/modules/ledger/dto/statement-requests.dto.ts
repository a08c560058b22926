import { IsInt, IsISO8601, IsString, Matches, Max, Min } from 'class-validator';
import { offsetField, optional, required } from '../../../core/http/dto-validators.js';

const accountNumber = () =>
  Matches(/^ACC-[A-Z]+-[A-Z]{3,5}-\d{1,19}$/, { message: 'account_number must look like ACC-USER-USD-123' });
const timestamp = () => IsISO8601({ strict: true }, { message: '$property must be an ISO-8601 date-time' });

export class LedgersRequestDto {
  @accountNumber()
  @IsString()
  @required()
  account_number: string;

  @timestamp()
  @optional()
  from?: string;

  @timestamp()
  @optional()
  to?: string;

  @Max(200)
  @Min(1)
  @IsInt()
  @optional()
  limit?: number;

  @offsetField()
  @optional()
  offset?: number;
}

export class AccountStatementRequestDto {
  @accountNumber()
  @IsString()
  @required()
  account_number: string;

  @timestamp()
  @required()
  from: string;

  @timestamp()
  @required()
  to: string;
}

export class OwnerStatementRequestDto {
  @timestamp()
  @required()
  from: string;

  @timestamp()
  @required()
  to: string;
}

export class ReceiptRequestDto {
  @Matches(/^RCP-\d{4}-\d{1,19}$/, { message: 'receipt_code must look like RCP-2025-123' })
  @IsString()
  @required()
  receipt_code: string;
}
