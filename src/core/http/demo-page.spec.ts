import { describe, expect, it } from 'vitest';
import { parseEnv } from '../config/env.schema.js';
import { isDemoPageEnabled } from './demo-page.js';

const production = {
  NODE_ENV: 'production',
  JWT_SECRET: 'x'.repeat(32),
  DATABASE_URL: 'postgres://db/cashier',
  REDIS_URL: 'redis://redis:6379',
  VERIFICATION_HMAC_KEY: 'y'.repeat(32),
  VERIFICATION_ENCRYPTION_KEY: 'a'.repeat(64),
};

const enabled = (source: Record<string, string>) => {
  const parsed = parseEnv(source);
  if (!parsed.ok) throw new Error(parsed.error);
  return isDemoPageEnabled(parsed.env);
};

describe('the demo page setting', () => {
  it('is on outside production and off in production, unless DEMO_PAGE says otherwise', () => {
    expect(enabled({})).toBe(true);
    expect(enabled({ NODE_ENV: 'test', DEMO_PAGE: 'false' })).toBe(false);
    expect(enabled(production)).toBe(false);
    expect(enabled({ ...production, DEMO_PAGE: 'true' })).toBe(true);
    expect(enabled({ ...production, DEMO_PAGE: '' })).toBe(false);
  });

  it('refuses a value that is not a boolean', () => {
    expect(parseEnv({ DEMO_PAGE: 'maybe' })).toEqual({
      ok: false,
      error: 'invalid configuration: DEMO_PAGE must be true or false (got "maybe")',
    });
  });
});
