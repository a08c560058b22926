// Decorators run bottom-up and validation stops at a property's first failure, so the presence
// check sits at the bottom: a missing field is reported as "is required".
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, Length, Matches, MaxLength } from 'class-validator';
import { optional, required } from '../../../core/http/dto-validators.js';

/** Emails are compared trimmed and lower-cased. */
const normalizedEmail = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value));

export class SignupRequestDto {
  @ApiProperty({ example: 'user@example.com' })
  @normalizedEmail()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @required()
  email: string;

  @ApiProperty({ minLength: 8, maxLength: 128 })
  @Length(8, 128, { message: 'password must be between 8 and 128 characters' })
  @IsString()
  @required()
  password: string;

  @ApiPropertyOptional({ example: '+254712345678' })
  @Matches(/^\+[1-9]\d{6,14}$/, { message: 'phone must be in international format, e.g. +254712345678' })
  @IsString()
  @optional()
  phone?: string;

  @ApiPropertyOptional({ maxLength: 100 })
  @Length(1, 100)
  @IsString()
  @optional()
  name?: string;
}

export class LoginRequestDto {
  @ApiProperty({ example: 'user@example.com' })
  @normalizedEmail()
  @MaxLength(254)
  @IsString()
  @required()
  email: string;

  @ApiProperty()
  @MaxLength(128)
  @IsString()
  @required()
  password: string;
}

export class RefreshRequestDto {
  @ApiProperty()
  @MaxLength(128)
  @IsString()
  @required()
  refresh_token: string;
}
