import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature, WEBHOOK_TOLERANCE_SECONDS } from './webhook-signature.js';

const SECRET = 'whsec-current-0123456789abcdef';
const OLD_SECRET = 'whsec-previous-0123456789abcdef';
const NOW = 1_765_000_000;
const BODY = Buffer.from(
  JSON.stringify({
    event_id: '5b0f1f8e-3c1a-4c57-9a59-3a4f8f0b4a11',
    type: 'deposit.completed',
    request_ref: 'DEP-REQ-20251207-001',
    partner_reference: 'SBX-1',
    amount: '100.00',
    currency: 'USD',
  }),
);

const verify = (header: string | undefined, body: Buffer = BODY, secrets = [SECRET], now = NOW) =>
  verifyWebhookSignature(secrets, header, body, now);

describe('signWebhook', () => {
  it('is t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW}.${BODY.toString()}`).digest('hex');
    expect(signWebhook(SECRET, NOW, BODY)).toBe(`t=${NOW},v1=${expected}`);
  });

  it('signs a string body as its UTF-8 bytes', () => {
    const text = '{"currency":"KES","note":"café"}';
    expect(signWebhook(SECRET, NOW, text)).toBe(signWebhook(SECRET, NOW, Buffer.from(text, 'utf8')));
  });

  it('refuses a t that is not whole seconds', () => {
    expect(() => signWebhook(SECRET, 1.5, BODY)).toThrow(RangeError);
    expect(() => signWebhook(SECRET, -1, BODY)).toThrow(RangeError);
  });
});

describe('verifyWebhookSignature', () => {
  it('accepts a signature made with the secret over the exact body', () => {
    expect(verify(signWebhook(SECRET, NOW, BODY))).toBe(true);
  });

  it('accepts upper-case hex and surrounding spaces', () => {
    const header = signWebhook(SECRET, NOW, BODY);
    const [t, v1] = header.split(',');
    expect(verify(` ${t},${v1.toUpperCase().replace('V1=', 'v1=')} `)).toBe(true);
  });

  it('refuses a signature made with another secret', () => {
    expect(verify(signWebhook('whsec-attacker-guess-000000000000', NOW, BODY))).toBe(false);
  });

  it('refuses a body modified after signing, even by one byte or a re-serialization', () => {
    const header = signWebhook(SECRET, NOW, BODY);
    const tampered = Buffer.from(BODY.toString().replace('"100.00"', '"900.00"'));
    expect(verify(header, tampered)).toBe(false);
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(BODY.toString()), null, 1));
    expect(verify(header, reserialized)).toBe(false);
    expect(verify(header, Buffer.concat([BODY, Buffer.from(' ')]))).toBe(false);
  });

  it('refuses a forged header: made-up digest, another t with the same digest, truncated digest', () => {
    expect(verify(`t=${NOW},v1=${'0'.repeat(64)}`)).toBe(false);
    const real = signWebhook(SECRET, NOW, BODY);
    const digest = real.split('v1=')[1];
    expect(verify(`t=${NOW - 1},v1=${digest}`, BODY, [SECRET], NOW)).toBe(false);
    expect(verify(`t=${NOW},v1=${digest.slice(0, 63)}`)).toBe(false);
    expect(verify(`t=${NOW},v1=${digest}00`)).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['no t', `v1=${'a'.repeat(64)}`],
    ['no v1', `t=${NOW}`],
    ['v0 scheme', `t=${NOW},v0=${'a'.repeat(64)}`],
    ['non-hex digest', `t=${NOW},v1=${'z'.repeat(64)}`],
    ['negative t', `t=-${NOW},v1=${'a'.repeat(64)}`],
    ['fractional t', `t=${NOW}.5,v1=${'a'.repeat(64)}`],
    ['reordered', `v1=${'a'.repeat(64)},t=${NOW}`],
    ['garbage', 'not a signature'],
  ])('refuses a malformed header (%s)', (_label, header) => {
    expect(verify(header)).toBe(false);
  });

  it(`accepts t up to ${WEBHOOK_TOLERANCE_SECONDS} s old and refuses t 301 s old`, () => {
    expect(verify(signWebhook(SECRET, NOW - 300, BODY))).toBe(true);
    expect(verify(signWebhook(SECRET, NOW - 301, BODY))).toBe(false);
    expect(verify(signWebhook(SECRET, NOW - 86_400, BODY))).toBe(false);
  });

  it('refuses t more than 300 s in the future (a clock-skewed or pre-made signature)', () => {
    expect(verify(signWebhook(SECRET, NOW + 300, BODY))).toBe(true);
    expect(verify(signWebhook(SECRET, NOW + 301, BODY))).toBe(false);
  });

  it('honours a custom tolerance', () => {
    const header = signWebhook(SECRET, NOW - 10, BODY);
    expect(verifyWebhookSignature([SECRET], header, BODY, NOW, 9)).toBe(false);
    expect(verifyWebhookSignature([SECRET], header, BODY, NOW, 10)).toBe(true);
  });

  it('accepts any of the secrets during a rotation, in any order', () => {
    expect(verify(signWebhook(OLD_SECRET, NOW, BODY), BODY, [SECRET, OLD_SECRET])).toBe(true);
    expect(verify(signWebhook(SECRET, NOW, BODY), BODY, [OLD_SECRET, SECRET])).toBe(true);
    // Once the old secret is retired, its signatures are refused.
    expect(verify(signWebhook(OLD_SECRET, NOW, BODY), BODY, [SECRET])).toBe(false);
  });

  it('refuses everything when the partner has no secrets (or only empty ones)', () => {
    expect(verify(signWebhook(SECRET, NOW, BODY), BODY, [])).toBe(false);
    expect(verify(signWebhook('', NOW, BODY), BODY, [''])).toBe(false);
  });
});
