import { describe, expect, it } from 'vitest';
import { type Env, parseEnv } from './env.schema.js';

const SECRET = 'a-jwt-secret-that-is-long-enough-0123456789';
const PRODUCTION = {
  NODE_ENV: 'production',
  JWT_SECRET: SECRET,
  DATABASE_URL: 'postgres://cashier:pw@db:5432/cashier',
  REDIS_URL: 'redis://cache:6379',
  VERIFICATION_HMAC_KEY: 'an-otp-hmac-key-that-is-long-enough-0123456789',
  VERIFICATION_ENCRYPTION_KEY: '0123456789abcdef'.repeat(4),
};

function envOf(source: NodeJS.ProcessEnv): Env {
  const result = parseEnv(source);
  if (!result.ok) throw new Error(`expected a valid environment, got: ${result.error}`);
  return result.env;
}

function errorOf(source: NodeJS.ProcessEnv): string {
  const result = parseEnv(source);
  if (result.ok) throw new Error('expected parseEnv to refuse the environment');
  return result.error;
}

/** Asserts the shape every refusal must have and returns the line. */
function expectOneLineError(source: NodeJS.ProcessEnv, ...names: string[]): string {
  const error = errorOf(source);
  expect(error).not.toContain('\n');
  expect(error.startsWith('invalid configuration:')).toBe(true);
  for (const name of names) expect(error).toContain(name);
  return error;
}

describe('parseEnv', () => {
  it('accepts an empty environment and fills in the defaults', () => {
    const env = envOf({});
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      ROLE: 'all',
      PORT: 3000,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      DATABASE_POOL_SIZE: 10,
      DATABASE_CONNECT_TIMEOUT_MS: 10000,
      DATABASE_MIGRATIONS_RUN: true,
      REDIS_PREFIX: 'cashier',
      DATA_DIR: '.data',
      EMBEDDED_PG_PORT: 54329,
      EMBEDDED_REDIS_PORT: 63799,
      CONFIG_DIR: 'config',
      JWT_ACCESS_TTL: 900,
      JWT_REFRESH_TTL: 2592000,
      ALLOWED_ORIGINS: [],
      HTTP_BODY_LIMIT: 102400,
      SHUTDOWN_TIMEOUT_MS: 10000,
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
    expect(env.JWT_SECRET).toBeUndefined();
    expect(env.ADMIN_EMAIL).toBeUndefined();
    expect(env.ADMIN_PASSWORD).toBeUndefined();
  });

  it('reads well-formed values with their types', () => {
    const env = envOf({
      PORT: '8080',
      ROLE: 'worker',
      LOG_LEVEL: 'debug',
      DATABASE_URL: 'postgresql://localhost/cashier',
      REDIS_URL: 'rediss://cache:6380',
      REDIS_PREFIX: 'cashier-test.1',
      JWT_SECRET: SECRET,
      ADMIN_EMAIL: 'admin@example.com',
      ADMIN_PASSWORD: 'correct horse battery',
    });
    expect(env.PORT).toBe(8080);
    expect(env.ROLE).toBe('worker');
    expect(env.LOG_LEVEL).toBe('debug');
    expect(env.DATABASE_URL).toBe('postgresql://localhost/cashier');
    expect(env.REDIS_URL).toBe('rediss://cache:6380');
    expect(env.REDIS_PREFIX).toBe('cashier-test.1');
    expect(env.JWT_SECRET).toBe(SECRET);
    expect(env.ADMIN_EMAIL).toBe('admin@example.com');
    expect(env.ADMIN_PASSWORD).toBe('correct horse battery');
  });

  it('accepts a complete production environment', () => {
    const env = envOf(PRODUCTION);
    expect(env.NODE_ENV).toBe('production');
  });

  describe('malformed variables', () => {
    it.each([
      ['PORT', 'abc'],
      ['PORT', '70000'],
      ['PORT', '-1'],
      ['PORT', '3000.5'],
      ['DATABASE_URL', 'mysql://x'],
      ['DATABASE_URL', 'not a url'],
      ['REDIS_URL', 'http://x'],
      ['NODE_ENV', 'staging'],
      ['ROLE', 'both'],
      ['LOG_LEVEL', 'verbose'],
      ['REDIS_PREFIX', 'has space'],
      ['JWT_SECRET', 'short'],
      ['ADMIN_EMAIL', 'not-an-email'],
      ['ALLOWED_ORIGINS', 'ftp://x'],
      ['DATABASE_MIGRATIONS_RUN', 'maybe'],
    ])('refuses %s=%j with one line naming the variable', (name, value) => {
      const source: NodeJS.ProcessEnv = { [name]: value };
      if (name === 'ADMIN_EMAIL') source.ADMIN_PASSWORD = 'long-enough-password';
      const error = expectOneLineError(source, name);
      expect(error).toMatch(new RegExp(`^invalid configuration: ${name} `));
    });

    it('says what is wrong with a number', () => {
      expect(expectOneLineError({ PORT: 'abc' }, 'PORT')).toContain('must be a whole number');
      expect(expectOneLineError({ PORT: '70000' }, 'PORT')).toContain('must be between 0 and 65535');
    });

    it('lists the allowed values of an enumeration and echoes the wrong one', () => {
      const error = expectOneLineError({ NODE_ENV: 'staging' }, 'NODE_ENV');
      expect(error).toContain('development, test, production');
      expect(error).toContain('"staging"');
    });

    it('names the expected URL schemes', () => {
      expect(expectOneLineError({ DATABASE_URL: 'mysql://x' })).toContain('postgres://');
      expect(expectOneLineError({ REDIS_URL: 'http://x' })).toContain('redis://');
    });

    it('never echoes the value of a secret', () => {
      const error = expectOneLineError({ JWT_SECRET: 'short' }, 'JWT_SECRET');
      expect(error).toContain('must be at least 32 characters');
      expect(error).not.toContain('short"');
      expect(error).not.toMatch(/got/);

      const password = 'tiny-pw';
      const adminError = expectOneLineError(
        { ADMIN_EMAIL: 'a@example.com', ADMIN_PASSWORD: password },
        'ADMIN_PASSWORD',
      );
      expect(adminError).not.toContain(password);

      const url = 'mysql://user:hunter2@db/cashier';
      const urlError = expectOneLineError({ DATABASE_URL: url }, 'DATABASE_URL');
      expect(urlError).not.toContain('hunter2');
    });

    it('keeps a value containing a newline on one line', () => {
      expectOneLineError({ ROLE: 'api\nworker' }, 'ROLE');
    });

    it('names every bad variable in the same line', () => {
      const error = expectOneLineError(
        { PORT: 'abc', ROLE: 'both', REDIS_URL: 'http://x' },
        'PORT',
        'ROLE',
        'REDIS_URL',
      );
      expect(error.split('; ')).toHaveLength(3);
    });
  });

  describe('ADMIN_ pair', () => {
    it('refuses ADMIN_EMAIL without ADMIN_PASSWORD, naming ADMIN_PASSWORD', () => {
      expectOneLineError({ ADMIN_EMAIL: 'admin@example.com' }, 'ADMIN_PASSWORD');
    });

    it('refuses ADMIN_PASSWORD without ADMIN_EMAIL, naming ADMIN_EMAIL', () => {
      const error = expectOneLineError({ ADMIN_PASSWORD: 'long-enough-password' }, 'ADMIN_EMAIL');
      expect(error).not.toContain('long-enough-password');
    });

    it('accepts both or neither', () => {
      expect(parseEnv({ ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'long-enough-password' }).ok).toBe(true);
      expect(parseEnv({ ADMIN_EMAIL: '', ADMIN_PASSWORD: '' }).ok).toBe(true);
    });
  });

  describe('production', () => {
    it('requires JWT_SECRET, DATABASE_URL and REDIS_URL, naming all three', () => {
      const error = expectOneLineError({ NODE_ENV: 'production' }, 'JWT_SECRET', 'DATABASE_URL', 'REDIS_URL');
      expect(error).toContain('is required in production');
    });

    const REQUIRED = [
      'JWT_SECRET',
      'DATABASE_URL',
      'REDIS_URL',
      'VERIFICATION_HMAC_KEY',
      'VERIFICATION_ENCRYPTION_KEY',
    ];

    it.each(REQUIRED)('names %s alone when only it is missing', (name) => {
      const source: NodeJS.ProcessEnv = { ...PRODUCTION };
      delete source[name];
      const error = expectOneLineError(source, name);
      for (const other of REQUIRED.filter((n) => n !== name)) {
        expect(error).not.toContain(other);
      }
    });

    it('treats an empty string as missing', () => {
      expectOneLineError({ ...PRODUCTION, REDIS_URL: '' }, 'REDIS_URL');
    });
  });

  describe('verification and delivery', () => {
    it('never echoes a malformed key, SMTP URL or provider token', () => {
      const error = expectOneLineError(
        {
          VERIFICATION_HMAC_KEY: 'short-hmac-key',
          VERIFICATION_ENCRYPTION_KEY: 'not-hex-key',
          SMTP_URL: 'ftp://u:pw@x',
        },
        'VERIFICATION_HMAC_KEY',
        'VERIFICATION_ENCRYPTION_KEY',
        'SMTP_URL',
      );
      for (const value of ['short-hmac-key', 'not-hex-key', 'ftp://u:pw@x']) expect(error).not.toContain(value);
    });

    it('has the documented defaults', () => {
      expect(envOf({})).toMatchObject({
        VERIFICATION_FAILURE_LIMIT: 10,
        SMTP_FROM: 'Cashier <no-reply@cashier.local>',
        OTP_DELIVERY_ATTEMPTS: 5,
        OTP_DELIVERY_BACKOFF_MS: 1000,
      });
      const env = envOf({});
      for (const name of [
        'VERIFICATION_HMAC_KEY',
        'VERIFICATION_ENCRYPTION_KEY',
        'SMTP_URL',
        'SMS_PROVIDER_URL',
      ] as const) {
        expect(env[name]).toBeUndefined();
      }
    });
  });

  describe('partners', () => {
    it('has the documented defaults', () => {
      const env = envOf({});
      expect(env.SANDBOX_DELAY_MS).toBe(500);
      for (const name of [
        'PARTNER_WEBHOOK_SECRETS',
        'SANDBOX_WEBHOOK_SECRET',
        'SANDBOX_URL',
        'WEBHOOK_BASE_URL',
      ] as const) {
        expect(env[name]).toBeUndefined();
      }
    });

    it('reads PARTNER_WEBHOOK_SECRETS as partner id → list of secrets', () => {
      const secrets = { 'PTN-MPESA': ['current-secret-0123456789', 'previous-secret-0123456789'] };
      expect(envOf({ PARTNER_WEBHOOK_SECRETS: JSON.stringify(secrets) }).PARTNER_WEBHOOK_SECRETS).toEqual(secrets);
    });

    it.each([
      ['not JSON', '{PTN-MPESA: secret-0123456789abcdef}', 'must be a JSON object'],
      ['an array', '["secret-0123456789abcdef"]', 'must be a JSON object'],
      ['a bare secret per partner', '{"PTN-MPESA":"secret-0123456789abcdef"}', 'list of secrets'],
      ['an empty list', '{"PTN-MPESA":[]}', 'at least one secret'],
      ['a short secret', '{"PTN-MPESA":["secret-0123456789abcdef","short-secret"]}', 'at least 16 characters'],
      ['a malformed partner id', '{"ptn mpesa":["secret-0123456789abcdef"]}', 'PARTNER_WEBHOOK_SECRETS'],
    ])('refuses PARTNER_WEBHOOK_SECRETS that is %s, without echoing it', (_label, value, says) => {
      const error = expectOneLineError({ PARTNER_WEBHOOK_SECRETS: value }, 'PARTNER_WEBHOOK_SECRETS');
      expect(error).toContain(says);
      expect(error).not.toContain('secret-0123456789abcdef');
      expect(error).not.toMatch(/got/);
    });

    it('refuses a short SANDBOX_WEBHOOK_SECRET without echoing it', () => {
      const error = expectOneLineError({ SANDBOX_WEBHOOK_SECRET: 'tiny-secret' }, 'SANDBOX_WEBHOOK_SECRET');
      expect(error).not.toContain('tiny-secret');
    });

    it('takes http(s) URLs for the sandbox and the webhook base, and a bounded delay', () => {
      const env = envOf({
        SANDBOX_URL: 'http://sandbox.internal:8080',
        WEBHOOK_BASE_URL: 'https://api.example.com',
        SANDBOX_DELAY_MS: '0',
      });
      expect(env).toMatchObject({
        SANDBOX_URL: 'http://sandbox.internal:8080',
        WEBHOOK_BASE_URL: 'https://api.example.com',
        SANDBOX_DELAY_MS: 0,
      });
      expectOneLineError({ SANDBOX_URL: 'ftp://x' }, 'SANDBOX_URL');
      expectOneLineError({ WEBHOOK_BASE_URL: 'not a url' }, 'WEBHOOK_BASE_URL');
      expectOneLineError({ SANDBOX_DELAY_MS: '600001' }, 'SANDBOX_DELAY_MS');
    });
  });

  it('treats an empty string for an optional URL or secret as unset', () => {
    const env = envOf({ DATABASE_URL: '', REDIS_URL: '', JWT_SECRET: '' });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
    expect(env.JWT_SECRET).toBeUndefined();
  });

  describe('booleans', () => {
    it.each([
      ['true', true],
      ['1', true],
      ['yes', true],
      ['false', false],
      ['0', false],
      ['no', false],
    ])('reads DATABASE_MIGRATIONS_RUN=%j as %s', (value, expected) => {
      expect(envOf({ DATABASE_MIGRATIONS_RUN: value }).DATABASE_MIGRATIONS_RUN).toBe(expected);
    });

    it('refuses anything else, saying what it wants', () => {
      expect(expectOneLineError({ DATABASE_MIGRATIONS_RUN: 'maybe' }, 'DATABASE_MIGRATIONS_RUN')).toContain(
        'DATABASE_MIGRATIONS_RUN must be true or false',
      );
    });
  });

  describe('ALLOWED_ORIGINS', () => {
    it('splits a comma-separated list and trims each origin', () => {
      expect(envOf({ ALLOWED_ORIGINS: 'https://a.example.com, http://localhost:3000' }).ALLOWED_ORIGINS).toEqual([
        'https://a.example.com',
        'http://localhost:3000',
      ]);
    });

    it('ignores empty entries and accepts the wildcard', () => {
      expect(envOf({ ALLOWED_ORIGINS: ' *, ,' }).ALLOWED_ORIGINS).toEqual(['*']);
    });

    it('refuses an origin with a path', () => {
      expectOneLineError({ ALLOWED_ORIGINS: 'https://a.example.com/app' }, 'ALLOWED_ORIGINS');
    });
  });

  describe('REDIS_CLUSTER', () => {
    const SEEDS = 'redis://10.0.0.1:7000, redis://10.0.0.2:7000,redis://10.0.0.3:7000';

    it('is off by default, and one REDIS_URL stays one server', () => {
      const env = envOf({ REDIS_URL: 'redis://cache:6379/2' });
      expect(env.REDIS_CLUSTER).toBe(false);
      expect(env.REDIS_URL).toBe('redis://cache:6379/2');
    });

    it('takes REDIS_URL as the comma-separated seed nodes of the cluster', () => {
      expect(envOf({ REDIS_CLUSTER: 'true', REDIS_URL: SEEDS })).toMatchObject({
        REDIS_CLUSTER: true,
        REDIS_URL: SEEDS,
      });
      expect(envOf({ REDIS_CLUSTER: 'true', REDIS_URL: 'rediss://u:p@seed:7000' }).REDIS_CLUSTER).toBe(true);
    });

    it('refuses several servers without REDIS_CLUSTER=true', () => {
      expect(expectOneLineError({ REDIS_URL: SEEDS }, 'REDIS_URL')).toContain('set REDIS_CLUSTER=true');
    });

    it('needs REDIS_URL: no cluster is started for you', () => {
      expect(expectOneLineError({ REDIS_CLUSTER: 'true' }, 'REDIS_URL')).toContain(
        'is required with REDIS_CLUSTER=true',
      );
    });

    it('refuses a database other than 0, mixed credentials and a non-Redis URL in the list', () => {
      expect(expectOneLineError({ REDIS_CLUSTER: 'true', REDIS_URL: 'redis://seed:7000/3' }, 'REDIS_URL')).toContain(
        'only 0',
      );
      expect(
        expectOneLineError(
          { REDIS_CLUSTER: 'true', REDIS_URL: 'redis://a:p@seed:7000,redis://seed2:7000' },
          'REDIS_URL',
        ),
      ).toContain('same scheme and credentials');
      expect(
        expectOneLineError({ REDIS_CLUSTER: 'true', REDIS_URL: 'redis://seed:7000,http://seed2:7000' }, 'REDIS_URL'),
      ).toContain('redis://');
    });
  });
});
