// Requests of the verification flow (socket.io `/user`) and of 2FA setup (HTTP).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, IsIn, IsString, Length, Matches } from 'class-validator';
import { VERIFICATION_METHODS, VERIFICATION_PURPOSES } from '../verification.types.js';
import { optional, required } from '../../../core/http/dto-validators.js';

const sixDigits = () => Matches(/^\d{6}$/, { message: 'code must be 6 digits' });

export class VerificationRequestDto {
  @IsIn(VERIFICATION_METHODS, { message: `method must be one of ${VERIFICATION_METHODS.join(', ')}` })
  @required()
  method: (typeof VERIFICATION_METHODS)[number];

  @IsIn(VERIFICATION_PURPOSES, { message: `purpose must be one of ${VERIFICATION_PURPOSES.join(', ')}` })
  @required()
  purpose: (typeof VERIFICATION_PURPOSES)[number];

  /** Read exactly by the service, with the decimals of `currency`. */
  @Allow()
  @optional()
  amount?: unknown;

  @Matches(/^[A-Z]{3,5}$/, { message: 'currency must be a currency code such as USD' })
  @IsString()
  @optional()
  currency?: string;

  @Length(1, 255)
  @IsString()
  @optional()
  destination?: string;
}

export class VerifyCodeRequestDto {
  @sixDigits()
  @IsString({ message: 'code must be 6 digits' })
  @required()
  code: string;

  @IsIn(VERIFICATION_PURPOSES, { message: `purpose must be one of ${VERIFICATION_PURPOSES.join(', ')}` })
  @required()
  purpose: (typeof VERIFICATION_PURPOSES)[number];
}

export class EnableTwoFactorRequestDto {
  @ApiProperty({ example: '123456', description: 'The current code of the authenticator' })
  @sixDigits()
  @IsString({ message: 'code must be 6 digits' })
  @required()
  code: string;
}

export class DevOutboxQueryDto {
  @ApiProperty({ example: 'user@example.com', description: 'An e-mail address or phone number' })
  @Length(3, 254)
  @IsString()
  @required()
  to: string;
}

export class VerificationMessagesQueryDto {
  @ApiPropertyOptional({ enum: ['queued', 'sent', 'failed', 'cancelled'], description: 'default: every status' })
  @IsIn(['queued', 'sent', 'failed', 'cancelled'])
  @optional()
  status?: 'queued' | 'sent' | 'failed' | 'cancelled';
}
