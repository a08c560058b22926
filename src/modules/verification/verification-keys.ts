// The keys of verification: an HMAC key for OTP codes (a keyed hash, since six digits are too few
// for a plain one) and an AES-256-GCM key for what must be read back (TOTP secrets; OTP message
// bodies until they are delivered). In production both come from the environment; elsewhere
// they are derived from the JWT secret (HKDF, one label per key), so a laptop needs no setup.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config.js';

const SEALED_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The context a TOTP secret is sealed under. */
export const secretContext = (userId: string) => `totp-secret:${userId}`;
/** The context an OTP message body is sealed under. */
export const messageContext = (challengeId: string) => `otp-message:${challengeId}`;

function derive(secret: string, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'cashier', `verification:${label}`, 32));
}

@Injectable()
export class VerificationKeys {
  private readonly hmacKey: Buffer;
  private readonly encryptionKey: Buffer;

  constructor(config: AppConfig) {
    const { VERIFICATION_HMAC_KEY, VERIFICATION_ENCRYPTION_KEY } = config.env;
    this.hmacKey = VERIFICATION_HMAC_KEY
      ? Buffer.from(VERIFICATION_HMAC_KEY, 'utf8')
      : derive(config.jwtSecret, 'otp-hmac');
    this.encryptionKey = VERIFICATION_ENCRYPTION_KEY
      ? Buffer.from(VERIFICATION_ENCRYPTION_KEY, 'hex')
      : derive(config.jwtSecret, 'aes-256-gcm');
  }

  /** The stored form of an OTP: HMAC-SHA256 over the challenge id and the code. */
  otpHash(challengeId: string, code: string): Buffer {
    return createHmac('sha256', this.hmacKey).update(`${challengeId}:${code}`, 'utf8').digest();
  }

  /** Constant-time check of a submitted code against its stored hash. */
  otpMatches(challengeId: string, code: string, stored: Buffer): boolean {
    const candidate = this.otpHash(challengeId, code);
    return candidate.length === stored.length && timingSafeEqual(candidate, stored);
  }

  /**
   * Encrypts `plaintext` bound to `context` (authenticated, not stored): a value copied into
   * another row, whose context differs, does not decrypt.
   */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [SEALED_VERSION, iv, cipher.getAuthTag(), body]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  open(sealed: string, context: string): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== SEALED_VERSION || iv === undefined || tag === undefined || body === undefined) {
      throw new Error('sealed value in an unknown format');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, Buffer.from(iv, 'base64url'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }
}
