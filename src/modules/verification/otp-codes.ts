// One-time codes and how recipients are shown back to the user (seed 000: "us***@example.com").
import { randomInt } from 'node:crypto';
import { OTP_DIGITS } from './verification.types.js';

/** Six decimal digits, uniformly from the CSPRNG (leading zeros kept). */
export function newOtpCode(): string {
  return randomInt(0, 10 ** OTP_DIGITS)
    .toString()
    .padStart(OTP_DIGITS, '0');
}

/** "user@example.com" → "us***@example.com": the first two characters of the local part. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email.slice(0, Math.min(2, at))}***${email.slice(at)}`;
}

/** "+254712345678" → "+254***678": country prefix and last three digits. */
export function maskPhone(phone: string): string {
  const compact = phone.replace(/[\s().-]/g, '');
  if (compact.length < 8) return `***${compact.slice(-2)}`;
  return `${compact.slice(0, 4)}***${compact.slice(-3)}`;
}
