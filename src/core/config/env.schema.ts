// The process environment, validated once at boot. Every variable the service reads is here,
// with its default; README.md documents the same list.
import { z } from 'zod';

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .default(String(fallback))
    .refine((v) => /^\d+$/.test(v), { message: 'must be a whole number' })
    .transform(Number)
    .refine((v) => v >= min && v <= max, { message: `must be between ${min} and ${max}` });

const url = (schemes: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return schemes.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${schemes.map((s) => `${s}//`).join(' or ')}` },
  );

// REDIS_URL: one URL, or (with REDIS_CLUSTER=true) a comma-separated list of a Cluster's seed nodes.
const redisUrlList = z.string().refine(
  (v) =>
    v.split(',').every((part) => {
      try {
        return ['redis:', 'rediss:'].includes(new URL(part.trim()).protocol);
      } catch {
        return false;
      }
    }),
  {
    message:
      'must be a URL starting with redis:// or rediss:// (with REDIS_CLUSTER=true: a comma-separated list of them)',
  },
);

const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

// {"PTN-MPESA": ["current-secret", "previous-secret"]}: several secrets per partner during a rotation.
const partnerSecrets = z
  .string()
  .transform((text, ctx): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object such as {"PTN-MPESA":["a-long-secret"]}' });
      return z.NEVER;
    }
  })
  .pipe(
    z.record(
      z.string().regex(/^[A-Z0-9-]{3,32}$/, 'must map partner ids such as PTN-MPESA to their secrets'),
      z
        .array(z.string().min(16, 'must hold secrets of at least 16 characters'), {
          message: 'must map each partner id to a list of secrets',
        })
        .min(1, 'must give each partner at least one secret')
        .max(10, 'must give each partner at most 10 secrets'),
      { message: 'must be a JSON object such as {"PTN-MPESA":["a-long-secret"]}' },
    ),
  );

export const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    ROLE: z.enum(['api', 'worker', 'all']).default('all'),
    PORT: int(3000, 0, 65535),
    HOST: z.string().min(1).default('0.0.0.0'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    DATABASE_URL: optional(url(['postgres:', 'postgresql:'])),
    DATABASE_POOL_SIZE: int(10, 1, 500),
    LEDGER_BATCH_LANES: int(1, 1, 16),
    DATABASE_CONNECT_TIMEOUT_MS: int(10000, 100, 120000),
    DATABASE_MIGRATIONS_RUN: bool(true),

    REDIS_URL: optional(redisUrlList),
    REDIS_CLUSTER: bool(false),
    REDIS_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, "_", "." or "-"')
      .default('cashier'),

    DATA_DIR: z.string().min(1).default('.data'),
    EMBEDDED_PG_PORT: int(54329, 1, 65535),
    EMBEDDED_REDIS_PORT: int(63799, 1, 65535),
    CONFIG_DIR: z.string().min(1).default('config'),

    JWT_SECRET: optional(z.string().min(32, 'must be at least 32 characters')),
    JWT_ACCESS_TTL: int(900, 10, 86400),
    JWT_REFRESH_TTL: int(2592000, 60, 31536000),

    ADMIN_EMAIL: optional(z.email('must be an email address')),
    ADMIN_PASSWORD: optional(z.string().min(12, 'must be at least 12 characters')),

    ALLOWED_ORIGINS: z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .refine((list) => list.every((o) => o === '*' || /^https?:\/\/[^/\s]+$/.test(o)), {
        message: 'must be a comma-separated list of origins such as https://app.example.com',
      }),

    HTTP_BODY_LIMIT: int(102400, 1024, 10485760),

    // The demo page at `/` (client/demo): on unless NODE_ENV=production; this setting overrides.
    DEMO_PAGE: optional(
      z
        .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
        .transform((v) => v === 'true' || v === '1' || v === 'yes'),
    ),

    CHANNEL_ID_AUTH: bool(true),
    SINGLE_SOCKET_PER_USER: bool(false),
    WS_MAX_PAYLOAD: int(65536, 1024, 10485760),
    WS_SEND_BUFFER_LIMIT: int(1048576, 65536, 1073741824),
    OUTBOX_RETENTION_DAYS: int(7, 1, 3650),
    OUTBOX_RELAY_AFTER_MS: int(3000, 100, 600000),
    SHUTDOWN_TIMEOUT_MS: int(10000, 100, 600000),
    // Password guessing: login attempts that may fail per account (any email, known or not) and
    // per client address within the window, before logins there are refused with 429.
    LOGIN_FAILURES_PER_ACCOUNT: int(10, 1, 100000),
    LOGIN_FAILURES_PER_IP: int(100, 1, 1000000),
    LOGIN_FAILURE_WINDOW_S: int(900, 1, 86400),
    // Public REST (market data): requests per minute per client address.
    PUBLIC_REQUESTS_PER_MINUTE: int(600, 1, 10000000),

    // Verification (OTP, TOTP, verification tokens). Outside production the keys are derived from
    // the JWT secret when unset; in production they are required and independent of it.
    VERIFICATION_HMAC_KEY: optional(z.string().min(32, 'must be at least 32 characters')),
    VERIFICATION_ENCRYPTION_KEY: optional(
      z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits (a 256-bit AES key)'),
    ),
    VERIFICATION_FAILURE_LIMIT: int(10, 1, 1000),
    SMTP_URL: optional(url(['smtp:', 'smtps:'])),
    SMTP_FROM: z.string().min(3).default('Cashier <no-reply@cashier.local>'),
    SMS_PROVIDER_URL: optional(url(['http:', 'https:'])),
    SMS_PROVIDER_TOKEN: optional(z.string().min(1)),
    OTP_DELIVERY_ATTEMPTS: int(5, 1, 20),
    OTP_DELIVERY_BACKOFF_MS: int(1000, 1, 600000),

    // Partners. Webhook secrets per partner (any of a partner's secrets verifies, for rotation);
    // the sandbox partners (off in production) sign with SANDBOX_WEBHOOK_SECRET, which outside
    // production defaults to a documented development value. The two URLs default to this
    // instance (http://127.0.0.1:<its port>).
    PARTNER_WEBHOOK_SECRETS: optional(partnerSecrets),
    SANDBOX_WEBHOOK_SECRET: optional(z.string().min(16, 'must be at least 16 characters')),
    SANDBOX_URL: optional(url(['http:', 'https:'])),
    WEBHOOK_BASE_URL: optional(url(['http:', 'https:'])),
    SANDBOX_DELAY_MS: int(500, 0, 600000),

    // Payments: how long a deposit waits for its partner before it expires; the partner jobs'
    // attempts and backoff (after the last attempt the payment fails cleanly); the lock a worker
    // holds on a job (a killed worker's job is taken over by another after about twice this).
    DEPOSIT_TTL_SECONDS: int(1800, 60, 7 * 86400),
    PAYMENT_JOB_ATTEMPTS: int(5, 1, 50),
    PAYMENT_JOB_BACKOFF_MS: int(1000, 1, 600000),
    JOB_LOCK_MS: int(30000, 1000, 600000),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production') {
      for (const name of [
        'JWT_SECRET',
        'DATABASE_URL',
        'REDIS_URL',
        'VERIFICATION_HMAC_KEY',
        'VERIFICATION_ENCRYPTION_KEY',
      ] as const) {
        if (!env[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'is required in production' });
      }
    }
    const redisUrls = env.REDIS_URL?.split(',').map((part) => new URL(part.trim())) ?? [];
    if (env.REDIS_CLUSTER) {
      if (redisUrls.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['REDIS_URL'],
          message: "is required with REDIS_CLUSTER=true (the cluster's seed nodes; no cluster is started for you)",
        });
      }
      if (redisUrls.some((u) => u.pathname !== '' && u.pathname !== '/' && u.pathname !== '/0')) {
        ctx.addIssue({
          code: 'custom',
          path: ['REDIS_URL'],
          message: 'must not name a database: a Redis Cluster has only 0',
        });
      }
      const shared = (u: URL) => `${u.protocol}${u.username}:${u.password}`;
      if (redisUrls.some((u) => shared(u) !== shared(redisUrls[0]))) {
        ctx.addIssue({
          code: 'custom',
          path: ['REDIS_URL'],
          message: 'must give every seed node the same scheme and credentials',
        });
      }
    } else if (redisUrls.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_URL'],
        message: 'lists several servers: set REDIS_CLUSTER=true for a Redis Cluster',
      });
    }
    if (Boolean(env.ADMIN_EMAIL) !== Boolean(env.ADMIN_PASSWORD)) {
      const missing = env.ADMIN_EMAIL ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'must be set together with the other ADMIN_ variable' });
    }
  });

export type Env = z.output<typeof envSchema>;

/** Variables whose values must never be echoed back in an error line. */
const SECRET_VARIABLES = new Set([
  'JWT_SECRET',
  'ADMIN_PASSWORD',
  'DATABASE_URL',
  'REDIS_URL',
  'VERIFICATION_HMAC_KEY',
  'VERIFICATION_ENCRYPTION_KEY',
  'SMTP_URL',
  'SMS_PROVIDER_TOKEN',
  'PARTNER_WEBHOOK_SECRETS',
  'SANDBOX_WEBHOOK_SECRET',
]);

/**
 * Parses the environment. On failure returns one line naming every bad variable and what is
 * wrong with it (values of secrets are never shown).
 */
export function parseEnv(source: NodeJS.ProcessEnv): { ok: true; env: Env } | { ok: false; error: string } {
  const result = envSchema.safeParse(source);
  if (result.success) return { ok: true, env: result.data };
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? 'environment');
    const raw = source[name];
    const shown = raw === undefined || SECRET_VARIABLES.has(name) ? '' : ` (got ${JSON.stringify(raw.slice(0, 80))})`;
    // zod's default enum message lists nothing useful; a custom message is kept as written.
    const message =
      issue.code === 'invalid_value' && issue.message.startsWith('Invalid option')
        ? `must be one of ${issue.values.join(', ')}`
        : issue.message;
    return `${name} ${message}${shown}`;
  });
  return { ok: false, error: `invalid configuration: ${problems.join('; ')}` };
}
