// Deposit, withdrawal and history requests. Amounts are read by the services (exactly, with the
// currency's decimals); here only their presence is declared.
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, IsIn, IsInt, IsString, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { currencyCode, offsetField, optional, required } from '../../../core/http/dto-validators.js';

const serviceName = () => Matches(/^[a-z][a-z0-9_]{0,31}$/, { message: '$property must be a service such as mpesa' });
const requestRef = () => Matches(/^(DEP|WDL)-REQ-\d{8}-\d{3,}$/, { message: '$property must be a request reference' });

export class DepositRequestDto {
  @Allow()
  @required()
  amount: unknown;

  @currencyCode()
  @IsString()
  @required()
  currency: string;

  @serviceName()
  @IsString()
  @required()
  service: string;

  @Length(1, 64)
  @IsString()
  @optional()
  partner_id?: string;

  @Length(1, 64)
  @IsString()
  @optional()
  payment_method?: string;

  @Length(1, 64)
  @IsString()
  @optional()
  idempotency_key?: string;
}

export class DepositRefDto {
  @requestRef()
  @IsString()
  @required()
  request_ref: string;
}

export class WithdrawRequestDto {
  @Allow()
  @required()
  amount: unknown;

  @currencyCode()
  @IsString()
  @required()
  currency: string;

  /** A phone number, an e-mail, an account or a wallet address: what the partner pays out to. */
  @Matches(/\S/, { message: 'destination must not be empty' })
  @MaxLength(128, { message: 'destination must be at most 128 characters' })
  @IsString()
  @required()
  destination: string;

  @serviceName()
  @IsString()
  @optional()
  service?: string;

  @Length(1, 64)
  @IsString()
  @optional()
  agent_id?: string;

  /** Checked by the service, so that its absence gets the message of seed 000. */
  @MaxLength(256)
  @IsString()
  @optional()
  verification_token?: string;

  @Length(1, 64)
  @IsString()
  @optional()
  idempotency_key?: string;
}

export class HistoryRequestDto {
  @IsIn(['deposits', 'withdrawals', 'all'], { message: 'type must be deposits, withdrawals or all' })
  @optional()
  type?: 'deposits' | 'withdrawals' | 'all';

  @Max(200)
  @Min(1)
  @IsInt()
  @optional()
  limit?: number;

  @offsetField()
  @optional()
  offset?: number;
}

export class AdminPaymentsQueryDto {
  @ApiPropertyOptional({ enum: ['deposits', 'withdrawals', 'all'], description: 'default all' })
  @IsIn(['deposits', 'withdrawals', 'all'], { message: 'kind must be deposits, withdrawals or all' })
  @optional()
  kind?: 'deposits' | 'withdrawals' | 'all';

  @ApiPropertyOptional({
    enum: ['pending', 'processing', 'sent_to_partner', 'completed', 'failed', 'expired', 'cancelled'],
  })
  @IsIn(['pending', 'processing', 'sent_to_partner', 'completed', 'failed', 'expired', 'cancelled'], {
    message: 'status must be a payment status',
  })
  @optional()
  status?: string;
}
