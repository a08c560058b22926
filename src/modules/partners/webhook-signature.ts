// Partner webhook signatures (contract section 6): `X-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret,
// t + "." + raw body)>`. Signed over the raw bytes, never over re-serialized JSON, so what is checked
// is exactly what was sent.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Seconds a signature stays valid either side of its `t` (replays of old deliveries are refused). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

const HEADER = /^t=(\d{1,12}),v1=([0-9a-fA-F]{64})$/;

function digest(secret: string, t: number, rawBody: Buffer | string): Buffer {
  return createHmac('sha256', secret)
    .update(`${t}.`)
    .update(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody)
    .digest();
}

/** The `X-Signature` header value for a body sent at `t` (Unix seconds). */
export function signWebhook(secret: string, t: number, rawBody: Buffer | string): string {
  if (!Number.isSafeInteger(t) || t < 0) throw new RangeError('t must be a non-negative whole number of seconds');
  return `t=${t},v1=${digest(secret, t, rawBody).toString('hex')}`;
}

/**
 * True when `header` is a well-formed signature of `rawBody` by any of `secrets` (several during a
 * rotation) and its `t` is within `toleranceSeconds` of `nowSeconds`. Every secret is tried with a
 * constant-time comparison, so timing tells nothing about which one nearly matched.
 */
export function verifyWebhookSignature(
  secrets: readonly string[],
  header: string | undefined,
  rawBody: Buffer,
  nowSeconds: number,
  toleranceSeconds = WEBHOOK_TOLERANCE_SECONDS,
): boolean {
  if (typeof header !== 'string') return false;
  const match = HEADER.exec(header.trim());
  if (!match) return false;
  const t = Number(match[1]);
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const given = Buffer.from(match[2], 'hex');
  let valid = false;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const expected = digest(secret, t, rawBody);
    // Both are 32 bytes (the header pattern fixes the length), as timingSafeEqual requires.
    if (expected.length === given.length && timingSafeEqual(expected, given)) valid = true;
  }
  return valid;
}
