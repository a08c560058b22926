// Verification over the wire against the built service: an API process and a separate worker
// process (ROLE=worker) sharing PostgreSQL and Redis. The first two steps of seed 000's
// "Complete Withdrawal Flow" (request → code in the development mailbox → verify_otp → token),
// SMS, TOTP two-factor setup and verification, refusals with their codes and envelopes, admin
// endpoints closed to users, and no code, secret or token in either process's logs.
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { countRows } from '../helpers/db.js';
import { PASSWORD, signUpAndLogIn, uniqueEmail, type SignedIn } from '../helpers/factories.js';
import { client, type Client } from '../helpers/http.js';
import { connectUser, type TestSocket } from '../helpers/sockets.js';

const ADMIN = { email: 'verify-admin@example.com', password: 'verification admin password' };

interface Envelope<T = any> {
  type: 'success' | 'error';
  data: { message: string; data?: T; code?: string; field?: string; retry_after?: number };
  timestamp: number;
}

interface MailboxEntry {
  id: string;
  channel: string;
  to: string;
  subject: string;
  text: string;
  sent_at: string;
}

let api: AppProcess;
let worker: AppProcess;
let http: Client;
let adminToken: string;
const sockets: TestSocket[] = [];
/** Every code, secret and token seen, to be looked for in the logs at the end. */
const secrets: string[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function ask<T = any>(socket: TestSocket, type: string, data: unknown): Promise<Envelope<T>> {
  return (await socket.socket.timeout(5000).emitWithAck(type, data)) as Envelope<T>;
}

async function userWithSocket(phone?: string): Promise<SignedIn & { socket: TestSocket }> {
  let user: SignedIn;
  if (phone) {
    const email = uniqueEmail('verify');
    expect((await http.post('/api/v1/auth/signup', { email, password: PASSWORD, phone })).status).toBe(201);
    user = await signUpAndLogInExisting(email);
  } else {
    user = await signUpAndLogIn(http, uniqueEmail('verify'));
  }
  const socket = await connectUser(api.url, { token: user.accessToken });
  sockets.push(socket);
  return { ...user, socket };
}

async function signUpAndLogInExisting(email: string): Promise<SignedIn> {
  const login = await http.post('/api/v1/auth/login', { email, password: PASSWORD });
  expect(login.status).toBe(200);
  return {
    email,
    userId: login.body.user.id,
    channel: login.body.user.channel,
    accessToken: login.body.access_token,
    refreshToken: login.body.refresh_token,
  };
}

/** Waits until the worker has put `count` messages for `to` into the development mailbox. */
async function mailbox(to: string, count = 1): Promise<MailboxEntry[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const result = await http.get(`/api/v1/dev/outbox?to=${encodeURIComponent(to)}`);
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    if (result.body.messages.length >= count) return result.body.messages as MailboxEntry[];
    if (Date.now() > deadline) throw new Error(`no message for ${to} in the mailbox`);
    await sleep(100);
  }
}

const codeIn = (text: string) => /\b(\d{6})\b/.exec(text)![1];

beforeAll(async () => {
  const env = testEnv({
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    REDIS_PREFIX: isolatedRedisPrefix(),
    LOG_LEVEL: 'debug',
  });
  api = await spawnApp({ env: { ...env, ROLE: 'api' } });
  worker = await spawnApp({ env, entry: 'worker' });
  http = client(api.url);
  adminToken = (await http.post('/api/v1/auth/login', ADMIN)).body.access_token;
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await Promise.all([api?.stop(), worker?.stop()]);
});

describe('verification over socket.io /user', () => {
  it('runs the first two steps of the seed 000 withdrawal flow: request, code by e-mail, verify, token', async () => {
    const user = await userWithSocket();
    const requested = await ask(user.socket, 'verification_request', { method: 'otp_email', purpose: 'withdrawal' });
    const masked = `${user.email.slice(0, 2)}***@example.com`;
    expect(requested).toEqual({
      type: 'success',
      data: {
        message: `OTP sent to ${masked} via email`,
        data: {
          method: 'otp_email',
          channel: 'email',
          recipient: masked,
          purpose: 'withdrawal',
          next_step: 'verify_otp',
          expires_in: 180,
        },
      },
      timestamp: expect.any(Number),
    });

    const [mail] = await mailbox(user.email);
    expect(mail).toMatchObject({ channel: 'email', to: user.email, subject: 'Your Cashier verification code' });
    const code = codeIn(mail.text);
    secrets.push(code);

    const verified = await ask(user.socket, 'verify_otp', { code, purpose: 'withdrawal' });
    expect(verified).toEqual({
      type: 'success',
      data: {
        message: 'verification successful',
        data: {
          verification_token: expect.stringMatching(/^[0-9a-f]{64}$/),
          purpose: 'withdrawal',
          method: 'otp_email',
          expires_in: 300,
          message: 'Use this token for your next withdrawal request',
        },
      },
      timestamp: expect.any(Number),
    });
    secrets.push(verified.data.data.verification_token);
    expect(await countRows('verification_tokens', 'user_id = $1 AND consumed_at IS NULL', [user.userId])).toBe(1);

    // The same code again is refused and issues nothing.
    expect(await ask(user.socket, 'verify_otp', { code, purpose: 'withdrawal' })).toMatchObject({
      type: 'error',
      data: { code: 'OTP_NOT_REQUESTED' },
    });
    expect(await countRows('verification_tokens', 'user_id = $1', [user.userId])).toBe(1);
  });

  it('sends SMS to the phone on the account (the development mailbox stands in for the provider)', async () => {
    const phone = `+2547${String(Date.now()).slice(-8)}`;
    const user = await userWithSocket(phone);
    const requested = await ask(user.socket, 'verification_request', { method: 'otp_sms', purpose: 'withdrawal' });
    expect(requested.data.message).toBe(`OTP sent to ${phone.slice(0, 4)}***${phone.slice(-3)} via SMS`);
    const [sms] = await mailbox(phone);
    expect(sms.channel).toBe('sms');
    secrets.push(codeIn(sms.text));
    expect((await ask(user.socket, 'verify_otp', { code: codeIn(sms.text), purpose: 'withdrawal' })).type).toBe(
      'success',
    );
  });

  it('refuses a wrong code, a resend within 30 s and malformed requests, each with its code', async () => {
    const user = await userWithSocket();
    await ask(user.socket, 'verification_request', { method: 'otp_email', purpose: 'withdrawal' });
    const code = codeIn((await mailbox(user.email))[0].text);
    secrets.push(code);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    expect(await ask(user.socket, 'verify_otp', { code: wrong, purpose: 'withdrawal' })).toEqual({
      type: 'error',
      data: { message: 'invalid OTP code', code: 'OTP_INVALID', field: 'code', attempts_left: 4 },
      timestamp: expect.any(Number),
    });

    const early = await ask(user.socket, 'verification_request', { method: 'otp_email', purpose: 'withdrawal' });
    expect(early.data).toMatchObject({ code: 'OTP_RESEND_TOO_EARLY', retry_after: expect.any(Number) });
    expect(early.data.retry_after).toBeGreaterThan(0);
    expect(early.data.retry_after).toBeLessThanOrEqual(30);

    for (const [data, field] of [
      [{ method: 'otp_email', purpose: 'withdrawal', extra: 1 }, 'extra'],
      [{ method: 'carrier_pigeon', purpose: 'withdrawal' }, 'method'],
      [{ method: 'otp_email' }, 'purpose'],
      [{ code: '12345', purpose: 'withdrawal' }, 'code'],
    ] as const) {
      const type = 'code' in data ? 'verify_otp' : 'verification_request';
      expect(await ask(user.socket, type, data)).toMatchObject({
        type: 'error',
        data: { code: 'VALIDATION_FAILED', field },
      });
    }
    expect(await countRows('verification_challenges', 'user_id = $1', [user.userId])).toBe(1);
    expect(await countRows('verification_tokens', 'user_id = $1', [user.userId])).toBe(0);
    // The right code still works after all that.
    expect((await ask(user.socket, 'verify_otp', { code, purpose: 'withdrawal' })).type).toBe('success');
  });

  it('sets up TOTP over HTTP, then verifies a code over the socket, once', async () => {
    const user = await userWithSocket();
    const noTwoFactor = await ask(user.socket, 'verification_request', { method: 'totp', purpose: 'withdrawal' });
    expect(noTwoFactor).toEqual({
      type: 'error',
      data: {
        message: '2FA is not enabled for your account.  Please use OTP verification instead.',
        code: 'TWO_FACTOR_NOT_ENABLED',
        field: 'method',
      },
      timestamp: expect.any(Number),
    });
    expect(await countRows('verification_challenges', 'user_id = $1', [user.userId])).toBe(0);

    const setup = await http.post('/api/v1/user/2fa/setup', undefined, { token: user.accessToken });
    expect(setup.status, JSON.stringify(setup.body)).toBe(200);
    expect(setup.body).toEqual({ secret: expect.stringMatching(/^[A-Z2-7]+$/), otpauth_url: expect.any(String) });
    const { secret } = setup.body as { secret: string };
    secrets.push(secret);

    const wrongEnable = await http.post('/api/v1/user/2fa/enable', { code: 'abcdef' }, { token: user.accessToken });
    expect(wrongEnable.status).toBe(400);
    expect(wrongEnable.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    const first = await generate({ secret });
    const enabled = await http.post('/api/v1/user/2fa/enable', { code: first }, { token: user.accessToken });
    expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
    expect(enabled.body).toEqual({ two_factor_enabled: true });
    expect((await http.get('/api/v1/user', { token: user.accessToken })).body.two_factor_enabled).toBe(true);
    const again = await http.post('/api/v1/user/2fa/setup', undefined, { token: user.accessToken });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('TWO_FACTOR_ALREADY_ENABLED');

    expect(await ask(user.socket, 'verification_request', { method: 'totp', purpose: 'withdrawal' })).toEqual({
      type: 'success',
      data: {
        message: '2FA enabled.  Please provide your TOTP code',
        data: { method: 'totp', purpose: 'withdrawal', next_step: 'verify_totp' },
      },
      timestamp: expect.any(Number),
    });
    // The code that enabled 2FA is spent; the next step's code (accepted within ±1 step) is not.
    expect(await ask(user.socket, 'verify_totp', { code: first, purpose: 'withdrawal' })).toMatchObject({
      type: 'error',
      data: { code: 'TOTP_REPLAYED' },
    });
    const next = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
    const verified = await ask(user.socket, 'verify_totp', { code: next, purpose: 'withdrawal' });
    expect(verified.data).toMatchObject({
      message: 'verification successful',
      data: { method: 'totp', purpose: 'withdrawal', expires_in: 300, verification_token: expect.any(String) },
    });
    secrets.push(verified.data.data.verification_token);
    expect(await ask(user.socket, 'verify_totp', { code: next, purpose: 'withdrawal' })).toMatchObject({
      type: 'error',
      data: { code: 'TOTP_REPLAYED' },
    });
  });

  it('keeps the admin message list from users and shows it to admins; 2FA needs a session', async () => {
    const user = await signUpAndLogIn(http, uniqueEmail('verify'));
    expect((await http.get('/api/v1/admin/verification/messages', { token: user.accessToken })).status).toBe(403);
    const listed = await http.get('/api/v1/admin/verification/messages?status=sent', { token: adminToken });
    expect(listed.status).toBe(200);
    expect(listed.body.messages.length).toBeGreaterThan(0);
    for (const message of listed.body.messages) {
      expect(Object.keys(message).sort()).toEqual([
        'attempts',
        'channel',
        'created_at',
        'failed_at',
        'id',
        'last_error',
        'provider',
        'recipient',
        'sent_at',
        'status',
        'user_id',
      ]);
    }
    expect((await http.post('/api/v1/user/2fa/setup')).status).toBe(401);
    expect((await http.get('/api/v1/dev/outbox')).body).toMatchObject({
      code: 'VALIDATION_FAILED',
      data: { field: 'to' },
    });
  });

  it('writes no code, TOTP secret or verification token to the logs', () => {
    expect(secrets.length).toBeGreaterThan(5);
    const logs = api.output() + worker.output();
    for (const secret of secrets) {
      // A six-digit code could sit inside a longer number or id by chance; look for it standing alone.
      const standalone = new RegExp(`(?<![0-9A-Za-z])${secret}(?![0-9A-Za-z])`);
      expect(logs).not.toMatch(standalone);
    }
  });
});
