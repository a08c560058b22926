// Where each partner's webhook secrets come from: PARTNER_WEBHOOK_SECRETS (any partner) and, for
// the sandbox partners outside production, SANDBOX_WEBHOOK_SECRET or its development default.
import type { Env } from '../../core/config/env.schema.js';

/**
 * The sandbox partners' signing secret when SANDBOX_WEBHOOK_SECRET is unset (never in production,
 * where the sandbox is off). Public by design: it only lets someone forge sandbox webhooks.
 */
export const DEV_SANDBOX_WEBHOOK_SECRET = 'cashier-sandbox-webhook-secret-development-only';

export const SANDBOX_ADAPTER = 'sandbox';

type SecretsEnv = Pick<Env, 'NODE_ENV' | 'PARTNER_WEBHOOK_SECRETS' | 'SANDBOX_WEBHOOK_SECRET'>;

/** True when sandbox partners run (everywhere but production). */
export function sandboxEnabled(env: Pick<Env, 'NODE_ENV'>): boolean {
  return env.NODE_ENV !== 'production';
}

/** The secret the sandbox partners sign with; undefined in production. */
export function sandboxWebhookSecret(env: SecretsEnv): string | undefined {
  if (!sandboxEnabled(env)) return undefined;
  return env.SANDBOX_WEBHOOK_SECRET ?? DEV_SANDBOX_WEBHOOK_SECRET;
}

/** Every secret that verifies a webhook of this partner (the configured ones first). */
export function webhookSecretsFor(partner: { id: string; adapter: string }, env: SecretsEnv): string[] {
  const secrets = [...(env.PARTNER_WEBHOOK_SECRETS?.[partner.id] ?? [])];
  const sandbox = partner.adapter === SANDBOX_ADAPTER ? sandboxWebhookSecret(env) : undefined;
  if (sandbox !== undefined) secrets.push(sandbox);
  return [...new Set(secrets)];
}
