import { describe, expect, it } from 'vitest';
import { maskEmail, maskPhone, newOtpCode } from './otp-codes.js';

describe('newOtpCode', () => {
  it('is always six digits, leading zeros kept', () => {
    const codes = Array.from({ length: 2000 }, () => newOtpCode());
    for (const code of codes) expect(code).toMatch(/^\d{6}$/);
    // 2000 draws from a million values: repeats are possible but a handful at most.
    expect(new Set(codes).size).toBeGreaterThan(1990);
  });
});

describe('maskEmail', () => {
  it('shows the first two characters of the local part and the domain, as seed 000 does', () => {
    expect(maskEmail('user@example.com')).toBe('us***@example.com');
    expect(maskEmail('u@example.com')).toBe('u***@example.com');
    expect(maskEmail('verification-e2e-1a2b@example.com')).toBe('ve***@example.com');
  });

  it('shows nothing of something that is not an address', () => {
    expect(maskEmail('no-at-sign')).toBe('***');
    expect(maskEmail('@example.com')).toBe('***');
  });
});

describe('maskPhone', () => {
  it('keeps the country prefix and the last three digits', () => {
    expect(maskPhone('+254712345678')).toBe('+254***678');
    expect(maskPhone('+254 712 345 678')).toBe('+254***678');
  });

  it('keeps only the last two digits of a short number', () => {
    expect(maskPhone('12345')).toBe('***45');
  });
});
