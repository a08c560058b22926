// Verification against real PostgreSQL and Redis, on a clock the test moves: OTP issue, delivery
// into the development mailbox and verification; every refusal (wrong, expired, void, resent too
// early, locked out) with its code and nothing else changed; TOTP setup, the ±1 step window and
// replay (also ten at once); verification tokens that are single use, bound and short-lived.
import type { INestApplicationContext } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../src/core/errors/domain-error.js';
import { QUEUES } from '../../src/core/queue/queues.js';
import { DevMailbox } from '../../src/modules/verification/delivery/dev-mailbox.js';
import { OtpDeliveryService } from '../../src/modules/verification/otp-delivery.service.js';
import { TotpService } from '../../src/modules/verification/totp.service.js';
import { LOCK_NOTICE } from '../../src/modules/verification/verification-lock.service.js';
import { VerificationTokensService } from '../../src/modules/verification/verification-tokens.service.js';
import { VerificationModule } from '../../src/modules/verification/verification.module.js';
import { VerificationService } from '../../src/modules/verification/verification.service.js';
import type { VerificationPurpose } from '../../src/modules/verification/verification.types.js';
import { UsersService } from '../../src/modules/users/users.service.js';
import { countRows, withDb } from '../helpers/db.js';
import { PASSWORD, uniqueEmail } from '../helpers/factories.js';
import { codeIn, createClockedContext, TestClock, totpAt, wrongCode } from '../helpers/verification.js';

let app: INestApplicationContext;
const clock = new TestClock();
let verification: VerificationService;
let totp: TotpService;
let tokens: VerificationTokensService;
let delivery: OtpDeliveryService;
let mailbox: DevMailbox;
let users: UsersService;

interface TestUser {
  id: string;
  email: string;
}

async function newUser(tag = 'verify', phone?: string): Promise<TestUser> {
  const email = uniqueEmail(tag);
  const user = await users.create({ email, password: PASSWORD, phone });
  return { id: user.id, email };
}

/** What a refusal changes must be nothing: every verification row of the user, before and after. */
async function snapshot(userId: string): Promise<unknown> {
  return withDb(async (db) => {
    const read = async (text: string) => (await db.query(text, [userId])).rows;
    return {
      challenges: await read(
        `SELECT id, status, attempts, expires_at FROM verification_challenges WHERE user_id = $1 ORDER BY id`,
      ),
      messages: await read(`SELECT id, status, attempts FROM verification_messages WHERE user_id = $1 ORDER BY id`),
      tokens: await read(`SELECT id, consumed_at FROM verification_tokens WHERE user_id = $1 ORDER BY id`),
      failures: await read(`SELECT day, failures, locked_until FROM verification_failures WHERE user_id = $1`),
      totp: await read(`SELECT last_step, enabled_at FROM user_totp WHERE user_id = $1`),
      notifications: await read(`SELECT id FROM notifications WHERE user_id = $1 ORDER BY id`),
    };
  });
}

/** Runs `action`, expects it refused with `code`, and returns the error. */
async function refused(action: Promise<unknown>, code: string): Promise<DomainError> {
  const error = await action.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
}

/** Refused with `code`, and no verification row of the user changed. */
async function refusedUnchanged(userId: string, action: () => Promise<unknown>, code: string): Promise<DomainError> {
  const before = await snapshot(userId);
  const error = await refused(action(), code);
  expect(await snapshot(userId)).toEqual(before);
  return error;
}

/** The newest message of the user, delivered now by the worker's service; resolves to its code. */
async function deliverLatest(user: TestUser, to = user.email): Promise<string> {
  const { rows } = await withDb((db) =>
    db.query<{ id: string }>(`SELECT id FROM verification_messages WHERE user_id = $1 ORDER BY id DESC LIMIT 1`, [
      user.id,
    ]),
  );
  expect(await delivery.deliver(String(rows[0].id), 1, 5)).toBe('sent');
  const [latest] = await mailbox.list(to);
  return codeIn(latest.text);
}

async function requestOtp(user: TestUser, purpose: VerificationPurpose = 'withdrawal', extra = {}): Promise<string> {
  await verification.request(user.id, { method: 'otp_email', purpose, ...extra });
  return deliverLatest(user);
}

async function tokenFor(user: TestUser, purpose: VerificationPurpose = 'withdrawal', extra = {}): Promise<string> {
  const code = await requestOtp(user, purpose, extra);
  return (await verification.verifyOtp(user.id, code, purpose)).verification_token;
}

/** A user with 2FA enabled; resolves with the TOTP secret. */
async function twoFactorUser(): Promise<TestUser & { secret: string }> {
  const user = await newUser('totp');
  const { secret } = await totp.setup(user.id);
  await totp.enable(user.id, await totpAt(secret, clock.now()));
  // Later codes must be of later steps than the one that enabled 2FA.
  clock.advance(60);
  return { ...user, secret };
}

const sha256 = (value: string) => createHash('sha256').update(value).digest();

beforeAll(async () => {
  app = await createClockedContext([VerificationModule], clock);
  verification = app.get(VerificationService);
  totp = app.get(TotpService);
  tokens = app.get(VerificationTokensService);
  delivery = app.get(OtpDeliveryService);
  mailbox = app.get(DevMailbox);
  users = app.get(UsersService);
});

afterAll(async () => {
  await app?.close();
});

describe('OTP', () => {
  it('is sent as the seed shows, stored only as a keyed hash, queued by id and delivered to the mailbox', async () => {
    const user = await newUser();
    const sent = await verification.request(user.id, { method: 'otp_email', purpose: 'withdrawal' });
    const masked = `${user.email.slice(0, 2)}***@example.com`;
    expect(sent).toEqual({
      message: `OTP sent to ${masked} via email`,
      data: {
        method: 'otp_email',
        channel: 'email',
        recipient: masked,
        purpose: 'withdrawal',
        next_step: 'verify_otp',
        expires_in: 180,
      },
    });

    const message = await withDb(
      async (db) =>
        (
          await db.query(
            `SELECT m.id, m.status, m.body_enc, m.recipient, c.code_hash, c.status AS challenge_status
               FROM verification_messages m JOIN verification_challenges c ON c.id = m.challenge_id WHERE m.user_id = $1`,
            [user.id],
          )
        ).rows[0],
    );
    expect(message).toMatchObject({ status: 'queued', recipient: user.email, challenge_status: 'pending' });
    expect(message.code_hash).toHaveLength(32);
    const job = await app.get<Queue>(getQueueToken(QUEUES.otp)).getJob(`otp-${message.id}`);
    expect(job?.data).toEqual({ messageId: String(message.id) });

    const code = await deliverLatest(user);
    expect(code).toMatch(/^\d{6}$/);
    // Neither the sealed body nor the hash contains the code; the body is wiped once sent.
    expect(message.body_enc).not.toContain(code);
    expect(message.code_hash.toString('hex')).not.toContain(code);
    expect(message.code_hash.equals(sha256(code))).toBe(false);
    const after = await withDb(
      async (db) =>
        (await db.query(`SELECT status, body_enc, provider FROM verification_messages WHERE id = $1`, [message.id]))
          .rows[0],
    );
    expect(after).toEqual({ status: 'sent', body_enc: null, provider: 'dev-mailbox' });
    // Delivering twice (BullMQ is at least once) sends nothing more.
    expect(await delivery.deliver(String(message.id), 1, 5)).toBe('skipped');
    expect(await mailbox.list(user.email)).toHaveLength(1);

    const issued = await verification.verifyOtp(user.id, code, 'withdrawal');
    expect(issued).toEqual({
      verification_token: expect.stringMatching(/^[0-9a-f]{64}$/),
      purpose: 'withdrawal',
      method: 'otp_email',
      expires_in: 300,
      message: 'Use this token for your next withdrawal request',
    });
    const stored = await withDb(
      async (db) =>
        (await db.query(`SELECT token_hash FROM verification_tokens WHERE user_id = $1`, [user.id])).rows as {
          token_hash: Buffer;
        }[],
    );
    expect(stored).toHaveLength(1);
    expect(stored[0].token_hash.equals(sha256(issued.verification_token))).toBe(true);
    // A code is good once.
    await refusedUnchanged(user.id, () => verification.verifyOtp(user.id, code, 'withdrawal'), 'OTP_NOT_REQUESTED');
  });

  it('refuses a wrong code, counting the try and issuing nothing', async () => {
    const user = await newUser();
    const code = await requestOtp(user);
    const error = await refused(verification.verifyOtp(user.id, wrongCode(code), 'withdrawal'), 'OTP_INVALID');
    expect(error.message).toBe('invalid OTP code');
    expect(error.data).toEqual({ attempts_left: 4 });
    expect(await countRows('verification_tokens', 'user_id = $1', [user.id])).toBe(0);
    expect(
      await countRows('verification_challenges', `user_id = $1 AND attempts = 1 AND status = 'pending'`, [user.id]),
    ).toBe(1);
    expect(await countRows('verification_failures', 'user_id = $1 AND failures = 1', [user.id])).toBe(1);
    // The right code still works after a wrong one.
    expect((await verification.verifyOtp(user.id, code, 'withdrawal')).verification_token).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a code for another purpose than it was requested for', async () => {
    const user = await newUser();
    const code = await requestOtp(user, 'withdrawal');
    await refusedUnchanged(user.id, () => verification.verifyOtp(user.id, code, 'transfer'), 'OTP_NOT_REQUESTED');
  });

  it('refuses an expired code (after 180 s) and changes nothing', async () => {
    const user = await newUser();
    const code = await requestOtp(user);
    clock.advance(179);
    clock.advance(1);
    const error = await refusedUnchanged(
      user.id,
      () => verification.verifyOtp(user.id, code, 'withdrawal'),
      'OTP_EXPIRED',
    );
    expect(error.message).toBe('OTP code has expired. Please request a new one');
  });

  it('accepts a code just before it expires', async () => {
    const user = await newUser();
    const code = await requestOtp(user);
    clock.advance(179);
    expect((await verification.verifyOtp(user.id, code, 'withdrawal')).expires_in).toBe(300);
  });

  it('voids the code after 5 wrong tries: even the right code is refused then', async () => {
    const user = await newUser();
    const code = await requestOtp(user);
    for (let left = 4; left >= 0; left -= 1) {
      const error = await refused(verification.verifyOtp(user.id, wrongCode(code), 'withdrawal'), 'OTP_INVALID');
      expect(error.data).toEqual({ attempts_left: left });
    }
    expect(
      await countRows('verification_challenges', `user_id = $1 AND status = 'voided' AND attempts = 5`, [user.id]),
    ).toBe(1);
    await refusedUnchanged(user.id, () => verification.verifyOtp(user.id, code, 'withdrawal'), 'OTP_ATTEMPTS_EXCEEDED');
    await refusedUnchanged(
      user.id,
      () => verification.verifyOtp(user.id, wrongCode(code), 'withdrawal'),
      'OTP_ATTEMPTS_EXCEEDED',
    );
    expect(await countRows('verification_tokens', 'user_id = $1', [user.id])).toBe(0);
  });

  it('refuses a resend within 30 s with retry_after, sending nothing; then supersedes the old code', async () => {
    const user = await newUser();
    const first = await requestOtp(user);
    clock.advance(10);
    const error = await refusedUnchanged(
      user.id,
      () => verification.request(user.id, { method: 'otp_email', purpose: 'withdrawal' }),
      'OTP_RESEND_TOO_EARLY',
    );
    expect(error.data).toEqual({ retry_after: 20 });
    // Another purpose or channel is no way around it.
    await refusedUnchanged(
      user.id,
      () => verification.request(user.id, { method: 'otp_email', purpose: 'transfer' }),
      'OTP_RESEND_TOO_EARLY',
    );
    expect(await mailbox.list(user.email)).toHaveLength(1);

    clock.advance(20);
    const second = await requestOtp(user);
    expect(await countRows('verification_challenges', `user_id = $1 AND status = 'superseded'`, [user.id])).toBe(1);
    if (second !== first) {
      const before = await snapshot(user.id);
      await refused(verification.verifyOtp(user.id, first, 'withdrawal'), 'OTP_INVALID');
      expect(await snapshot(user.id)).not.toEqual(before); // a wrong try of the new code is counted
    }
    expect((await verification.verifyOtp(user.id, second, 'withdrawal')).method).toBe('otp_email');
  });

  it('locks verification for the day at 10 wrong codes and tells the user with a notice', async () => {
    const user = await newUser();
    for (let round = 0; round < 2; round += 1) {
      const code = await requestOtp(user);
      for (let i = 0; i < 5; i += 1) {
        await refused(verification.verifyOtp(user.id, wrongCode(code), 'withdrawal'), 'OTP_INVALID');
      }
      clock.advance(31);
    }
    expect(
      await countRows('verification_failures', 'user_id = $1 AND failures = 10 AND locked_until IS NOT NULL', [
        user.id,
      ]),
    ).toBe(1);
    const notices = await withDb(
      async (db) => (await db.query(`SELECT message FROM notifications WHERE user_id = $1`, [user.id])).rows,
    );
    expect(notices).toEqual([{ message: LOCK_NOTICE }]);
    const channel = (await users.findById(user.id))!.channel;
    expect(
      await countRows('outbox_events', `channel = $1 AND event = 'notice' AND payload->>'message' = $2`, [
        channel,
        LOCK_NOTICE,
      ]),
    ).toBe(1);

    const locked = await refusedUnchanged(
      user.id,
      () => verification.request(user.id, { method: 'otp_email', purpose: 'withdrawal' }),
      'VERIFICATION_LOCKED',
    );
    expect(locked.data?.retry_after).toBeGreaterThan(23 * 3600);
    await refusedUnchanged(
      user.id,
      () => verification.verifyOtp(user.id, '000000', 'withdrawal'),
      'VERIFICATION_LOCKED',
    );

    // A day later verification works again.
    clock.advance(24 * 3600);
    expect((await verification.verifyOtp(user.id, await requestOtp(user), 'withdrawal')).expires_in).toBe(300);
  });

  it('refuses SMS for an account without a phone, and sends it to the phone of one that has it', async () => {
    const user = await newUser('nophone');
    await refusedUnchanged(
      user.id,
      () => verification.request(user.id, { method: 'otp_sms', purpose: 'withdrawal' }),
      'VALIDATION_FAILED',
    );
    const phone = `+2547${String(Date.now()).slice(-8)}`;
    const withPhone = await newUser('phone', phone);
    const sent = await verification.request(withPhone.id, { method: 'otp_whatsapp', purpose: 'withdrawal' });
    expect(sent.message).toBe(`OTP sent to ${phone.slice(0, 4)}***${phone.slice(-3)} via WhatsApp`);
    expect(sent.data).toMatchObject({ channel: 'whatsapp', next_step: 'verify_otp', expires_in: 180 });
    const code = await deliverLatest(withPhone, phone);
    expect((await verification.verifyOtp(withPhone.id, code, 'withdrawal')).method).toBe('otp_whatsapp');
  });
});

describe('TOTP', () => {
  it('sets up with an encrypted secret and an otpauth URL, and enables only with a current code', async () => {
    const user = await newUser('setup');
    const setup = await totp.setup(user.id);
    expect(setup.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(setup.otpauth_url).toMatch(/^otpauth:\/\/totp\//);
    expect(setup.otpauth_url).toContain(`secret=${setup.secret}`);
    expect(setup.otpauth_url).toContain('issuer=Cashier');
    const row = await withDb(
      async (db) => (await db.query(`SELECT secret_enc FROM user_totp WHERE user_id = $1`, [user.id])).rows[0],
    );
    expect(row.secret_enc).not.toContain(setup.secret);

    await refused(totp.enable(user.id, wrongCode(await totpAt(setup.secret, clock.now()))), 'TOTP_INVALID');
    expect((await users.findById(user.id))!.twoFactorEnabled).toBe(false);
    expect(await totp.enable(user.id, await totpAt(setup.secret, clock.now()))).toEqual({ two_factor_enabled: true });
    expect((await users.findById(user.id))!.twoFactorEnabled).toBe(true);
    // Enabled: a second setup would replace the secret behind the user's back.
    await refusedUnchanged(user.id, () => totp.setup(user.id), 'TWO_FACTOR_ALREADY_ENABLED');
  });

  it('refuses a TOTP request without 2FA with the seed message, changing nothing', async () => {
    const user = await newUser('no2fa');
    const error = await refusedUnchanged(
      user.id,
      () => verification.request(user.id, { method: 'totp', purpose: 'withdrawal' }),
      'TWO_FACTOR_NOT_ENABLED',
    );
    expect(error.message).toBe('2FA is not enabled for your account.  Please use OTP verification instead.');
    await refusedUnchanged(
      user.id,
      () => verification.verifyTotp(user.id, '123456', 'withdrawal'),
      'TWO_FACTOR_NOT_ENABLED',
    );
  });

  it('answers a TOTP request as the seed shows', async () => {
    const user = await twoFactorUser();
    expect(await verification.request(user.id, { method: 'totp', purpose: 'withdrawal' })).toEqual({
      message: '2FA enabled.  Please provide your TOTP code',
      data: { method: 'totp', purpose: 'withdrawal', next_step: 'verify_totp' },
    });
  });

  it.each([
    [-1, true],
    [0, true],
    [1, true],
    [-2, false],
    [2, false],
  ])('at %i steps from now: accepted %s', async (steps, accepted) => {
    const user = await twoFactorUser();
    clock.alignToStep(15);
    const code = await totpAt(user.secret, clock.now(), steps);
    if (accepted) {
      const issued = await verification.verifyTotp(user.id, code, 'withdrawal');
      expect(issued).toMatchObject({ method: 'totp', purpose: 'withdrawal', expires_in: 300 });
      const step = Math.floor(clock.now().getTime() / 30_000) + steps;
      expect(await countRows('user_totp', 'user_id = $1 AND last_step = $2', [user.id, step])).toBe(1);
    } else {
      await refused(verification.verifyTotp(user.id, code, 'withdrawal'), 'TOTP_INVALID');
      expect(await countRows('verification_tokens', 'user_id = $1', [user.id])).toBe(0);
    }
  });

  it('never accepts a code twice, nor an older step after a newer one', async () => {
    const user = await twoFactorUser();
    clock.alignToStep(15);
    const current = await totpAt(user.secret, clock.now());
    const previous = await totpAt(user.secret, clock.now(), -1);
    await verification.verifyTotp(user.id, current, 'withdrawal');
    const replay = await refusedUnchanged(
      user.id,
      () => verification.verifyTotp(user.id, current, 'withdrawal'),
      'TOTP_REPLAYED',
    );
    expect(replay.message).toBe('this TOTP code has already been used. Please wait for the next code');
    await refusedUnchanged(user.id, () => verification.verifyTotp(user.id, current, 'transfer'), 'TOTP_REPLAYED');
    await refusedUnchanged(user.id, () => verification.verifyTotp(user.id, previous, 'withdrawal'), 'TOTP_REPLAYED');
    clock.advance(30);
    expect((await verification.verifyTotp(user.id, await totpAt(user.secret, clock.now()), 'withdrawal')).method).toBe(
      'totp',
    );
  });

  it('gives exactly one token for ten concurrent submissions of one valid code', async () => {
    const user = await twoFactorUser();
    clock.alignToStep(15);
    const code = await totpAt(user.secret, clock.now());
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => verification.verifyTotp(user.id, code, 'withdrawal')),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const result of results.filter((r) => r.status === 'rejected')) {
      expect((result.reason as DomainError).code).toBe('TOTP_REPLAYED');
    }
    expect(await countRows('verification_tokens', 'user_id = $1', [user.id])).toBe(1);
  });

  it('counts wrong TOTP codes toward the daily lockout', async () => {
    const user = await twoFactorUser();
    clock.alignToStep(15);
    const code = await totpAt(user.secret, clock.now());
    await refused(verification.verifyTotp(user.id, wrongCode(code), 'withdrawal'), 'TOTP_INVALID');
    expect(await countRows('verification_failures', 'user_id = $1 AND failures = 1', [user.id])).toBe(1);
  });

  it('binds the token to what the TOTP request named', async () => {
    const user = await twoFactorUser();
    await verification.request(user.id, {
      method: 'totp',
      purpose: 'withdrawal',
      amount: '50.00',
      currency: 'USD',
      destination: '+254712345678',
    });
    clock.alignToStep(15);
    const { verification_token: token } = await verification.verifyTotp(
      user.id,
      await totpAt(user.secret, clock.now()),
      'withdrawal',
    );
    await refused(
      tokens.consume(user.id, token, 'withdrawal', { amount: 5001n, currency: 'USD', destination: '+254712345678' }),
      'VERIFICATION_INVALID',
    );
    expect(
      await tokens.consume(user.id, token, 'withdrawal', {
        amount: 5000n,
        currency: 'USD',
        destination: '+254712345678',
      }),
    ).toMatchObject({ method: 'totp' });
  });
});

describe('verification tokens', () => {
  it('are single use', async () => {
    const user = await newUser();
    const token = await tokenFor(user);
    expect(await tokens.consume(user.id, token, 'withdrawal', { reference: 'WDL-1' })).toMatchObject({
      method: 'otp_email',
    });
    const error = await refusedUnchanged(
      user.id,
      () => tokens.consume(user.id, token, 'withdrawal'),
      'VERIFICATION_INVALID',
    );
    expect(error.message).toBe('invalid or expired verification token.  Please verify again.');
    expect(await countRows('verification_tokens', `user_id = $1 AND consumed_for = 'WDL-1'`, [user.id])).toBe(1);
  });

  it('are refused when missing, malformed, or presented by another user', async () => {
    const user = await newUser();
    const other = await newUser();
    const token = await tokenFor(user);
    const missing = await refused(tokens.consume(user.id, undefined, 'withdrawal'), 'VERIFICATION_REQUIRED');
    expect(missing.message).toBe('verification_token is required.  Please complete verification first.');
    await refusedUnchanged(user.id, () => tokens.consume(user.id, 'abc123xyz', 'withdrawal'), 'VERIFICATION_INVALID');
    await refusedUnchanged(user.id, () => tokens.consume(other.id, token, 'withdrawal'), 'VERIFICATION_INVALID');
    expect(await tokens.consume(user.id, token, 'withdrawal')).toMatchObject({ method: 'otp_email' });
  });

  it('are refused for another purpose, and stay good for their own', async () => {
    const user = await newUser();
    const token = await tokenFor(user, 'withdrawal');
    await refusedUnchanged(user.id, () => tokens.consume(user.id, token, 'transfer'), 'VERIFICATION_INVALID');
    expect(await tokens.consume(user.id, token, 'withdrawal')).toMatchObject({ method: 'otp_email' });
  });

  it('are bound to the amount, currency and destination the request named', async () => {
    const user = await newUser();
    const bound = { amount: 50, currency: 'USD', destination: '+254712345678' };
    const token = await tokenFor(user, 'withdrawal', bound);
    const exact = { amount: 5000n, currency: 'USD', destination: '+254712345678' };
    for (const operation of [
      { ...exact, amount: 6000n },
      { ...exact, currency: 'EUR' },
      { ...exact, destination: '+254700000000' },
      { currency: 'USD', destination: '+254712345678' },
      {},
    ]) {
      await refusedUnchanged(
        user.id,
        () => tokens.consume(user.id, token, 'withdrawal', operation),
        'VERIFICATION_INVALID',
      );
    }
    expect(await tokens.consume(user.id, token, 'withdrawal', exact)).toMatchObject({ method: 'otp_email' });
  });

  it('bind nothing the request did not name', async () => {
    const user = await newUser();
    const token = await tokenFor(user);
    expect(
      await tokens.consume(user.id, token, 'withdrawal', { amount: 123n, currency: 'EUR', destination: 'anything' }),
    ).toMatchObject({ method: 'otp_email' });
  });

  it('are refused after 300 s, unspent', async () => {
    const user = await newUser();
    const token = await tokenFor(user);
    clock.advance(300);
    await refusedUnchanged(user.id, () => tokens.consume(user.id, token, 'withdrawal'), 'VERIFICATION_INVALID');
    expect(await countRows('verification_tokens', 'user_id = $1 AND consumed_at IS NULL', [user.id])).toBe(1);
  });

  it('are spent by exactly one of two concurrent consumers', async () => {
    const user = await newUser();
    for (let round = 0; round < 5; round += 1) {
      const token = await tokenFor(user);
      const results = await Promise.allSettled([
        tokens.consume(user.id, token, 'withdrawal'),
        tokens.consume(user.id, token, 'withdrawal'),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((loser.reason as DomainError).code).toBe('VERIFICATION_INVALID');
      clock.advance(31);
    }
  });

  it('refuse an amount without a currency, or a malformed one, before anything is sent', async () => {
    const user = await newUser();
    for (const extra of [
      { amount: 50 },
      { amount: -5, currency: 'USD' },
      { amount: '1.001', currency: 'USD' },
      { currency: 'XXX' },
    ]) {
      await refusedUnchanged(
        user.id,
        () => verification.request(user.id, { method: 'otp_email', purpose: 'withdrawal', ...extra }),
        'VALIDATION_FAILED',
      );
    }
  });
});
