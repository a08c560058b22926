// Every refusal of the verification flow, with its stable code. Messages quoted from seed 000 are
// kept exactly as written there.
import { DomainError } from '../../core/errors/domain-error.js';

export const verificationErrors = {
  twoFactorNotEnabled: () =>
    new DomainError(
      'TWO_FACTOR_NOT_ENABLED',
      '2FA is not enabled for your account.  Please use OTP verification instead.',
      { field: 'method' },
    ),
  twoFactorAlreadyEnabled: () =>
    new DomainError('TWO_FACTOR_ALREADY_ENABLED', '2FA is already enabled for your account'),
  twoFactorNotSetUp: () =>
    new DomainError('TWO_FACTOR_NOT_SET_UP', '2FA has not been set up: call POST /api/v1/user/2fa/setup first'),

  otpInvalid: (attemptsLeft: number) =>
    new DomainError('OTP_INVALID', 'invalid OTP code', { field: 'code', data: { attempts_left: attemptsLeft } }),
  otpExpired: () => new DomainError('OTP_EXPIRED', 'OTP code has expired. Please request a new one', { field: 'code' }),
  otpAttemptsExceeded: () =>
    new DomainError('OTP_ATTEMPTS_EXCEEDED', 'too many wrong codes: this OTP is void. Please request a new one', {
      field: 'code',
    }),
  otpNotRequested: (purpose: string) =>
    new DomainError('OTP_NOT_REQUESTED', `no OTP is pending for ${purpose}. Please send a verification_request first`, {
      field: 'purpose',
    }),
  otpResendTooEarly: (retryAfter: number) =>
    new DomainError(
      'OTP_RESEND_TOO_EARLY',
      `an OTP was sent less than 30 seconds ago. Please wait ${retryAfter} s before requesting another`,
      { data: { retry_after: retryAfter } },
    ),

  totpInvalid: () => new DomainError('TOTP_INVALID', 'invalid TOTP code', { field: 'code' }),
  totpReplayed: () =>
    new DomainError('TOTP_REPLAYED', 'this TOTP code has already been used. Please wait for the next code', {
      field: 'code',
    }),

  locked: (retryAfter: number) =>
    new DomainError(
      'VERIFICATION_LOCKED',
      'verification is locked after too many wrong codes today. Please try again later',
      { data: { retry_after: retryAfter } },
    ),

  noPhone: (method: string) =>
    DomainError.validation('method', `${method} needs a phone number on your account: use otp_email instead`),
  deliveryUnavailable: (channel: string) =>
    new DomainError('DELIVERY_UNAVAILABLE', `OTP delivery by ${channel} is not available. Please use another method`, {
      field: 'method',
    }),

  tokenRequired: () =>
    new DomainError('VERIFICATION_REQUIRED', 'verification_token is required.  Please complete verification first.', {
      field: 'verification_token',
    }),
  tokenInvalid: () =>
    new DomainError('VERIFICATION_INVALID', 'invalid or expired verification token.  Please verify again.', {
      field: 'verification_token',
    }),
};
