// The vocabulary of verification (contract section 3, seed 000) and its fixed numbers.

export const VERIFICATION_METHODS = ['totp', 'otp_email', 'otp_sms', 'otp_whatsapp'] as const;
export type VerificationMethod = (typeof VERIFICATION_METHODS)[number];
export type OtpMethod = Exclude<VerificationMethod, 'totp'>;

/** What a verification token may authorize; other modules consume tokens of their purpose. */
export const VERIFICATION_PURPOSES = ['withdrawal', 'transfer', 'account_security'] as const;
export type VerificationPurpose = (typeof VERIFICATION_PURPOSES)[number];

export type DeliveryChannel = 'email' | 'sms' | 'whatsapp';

export const CHANNEL_OF: Record<OtpMethod, DeliveryChannel> = {
  otp_email: 'email',
  otp_sms: 'sms',
  otp_whatsapp: 'whatsapp',
};

export const OTP_DIGITS = 6;
/** Seconds an OTP (and a TOTP request's bindings) stays valid. */
export const OTP_TTL_SECONDS = 180;
/** Wrong codes after which an OTP is void. */
export const OTP_MAX_ATTEMPTS = 5;
/** Seconds before another OTP may be sent to the same user. */
export const OTP_RESEND_AFTER_SECONDS = 30;
/** Seconds a verification token stays valid. */
export const TOKEN_TTL_SECONDS = 300;
/** How long verification stays locked once the daily failure limit is reached. */
export const LOCK_SECONDS = 24 * 3600;

export const TOTP_PERIOD_SECONDS = 30;
/** Time steps accepted either side of the current one. */
export const TOTP_WINDOW_STEPS = 1;
export const TOTP_ISSUER = 'Cashier';

/** What a token is bound to, beyond user and purpose (each only when the request named it). */
export interface TokenBinding {
  /** Minor units of `currency`. */
  amount?: bigint;
  currency?: string;
  destination?: string;
}

/** The operation presented with a token: it must match every binding the token carries. */
export interface TokenOperation extends TokenBinding {
  /** What consumed the token (e.g. a withdrawal's request_ref), kept for the audit trail. */
  reference?: string;
}

export interface IssuedToken {
  verification_token: string;
  purpose: VerificationPurpose;
  method: VerificationMethod;
  expires_in: number;
  message: string;
}
