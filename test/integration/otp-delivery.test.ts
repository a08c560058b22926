// OTP delivery through the `notify.otp` queue with the worker's processor running in this
// process: the HTTP SMS/WhatsApp provider and SMTP adapters against real local servers, retries
// with backoff, and a message that finally fails (listed for admins, the code closed, the user
// told with a `notice`).
import type { INestApplicationContext } from '@nestjs/common';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DomainError } from '../../src/core/errors/domain-error.js';
import { UsersService } from '../../src/modules/users/users.service.js';
import { deliveryFailedNotice, OtpDeliveryService } from '../../src/modules/verification/otp-delivery.service.js';
import { VerificationJobsModule } from '../../src/modules/verification/verification-jobs.module.js';
import { VerificationModule } from '../../src/modules/verification/verification.module.js';
import { VerificationService } from '../../src/modules/verification/verification.service.js';
import { countRows, withDb } from '../helpers/db.js';
import { PASSWORD, uniqueEmail } from '../helpers/factories.js';
import { createTestContext, testConfig } from '../helpers/nest.js';
import { codeIn } from '../helpers/verification.js';

interface ProviderCall {
  authorization?: string;
  body: { channel: string; to: string; text: string; reference: string };
}

/** The HTTP provider: answers each call with the next status of `script` (then 200). */
const provider = { calls: [] as ProviderCall[], script: [] as number[] };
let providerServer: Server;
const mails: string[] = [];
let smtp: SMTPServer;

let app: INestApplicationContext;
let verification: VerificationService;
let users: UsersService;

async function readBody(request: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return text;
}

const phoneNumber = () => `+2547${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;

async function newUser(phone?: string) {
  const email = uniqueEmail('delivery');
  const user = await users.create({ email, password: PASSWORD, phone });
  return { id: user.id, email };
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface MessageRow {
  status: string;
  attempts: number;
  last_error: string | null;
  body_enc: string | null;
  provider: string | null;
  challenge_status: string;
}

async function messageOf(userId: string): Promise<MessageRow> {
  return withDb(
    async (db) =>
      (
        await db.query<MessageRow>(
          `SELECT m.status, m.attempts, m.last_error, m.body_enc, m.provider, c.status AS challenge_status
             FROM verification_messages m JOIN verification_challenges c ON c.id = m.challenge_id
            WHERE m.user_id = $1 ORDER BY m.id DESC LIMIT 1`,
          [userId],
        )
      ).rows[0],
  );
}

beforeAll(async () => {
  providerServer = createServer((request, response) => {
    void readBody(request).then((text) => {
      provider.calls.push({ authorization: request.headers.authorization, body: JSON.parse(text) });
      response.statusCode = provider.script.shift() ?? 200;
      response.end('{}');
    });
  });
  providerServer.listen(0, '127.0.0.1');
  await once(providerServer, 'listening');

  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      stream.on('end', () => {
        mails.push(raw);
        callback();
      });
    },
  });
  smtp.listen(0, '127.0.0.1');
  await once(smtp.server, 'listening');

  const config = testConfig({
    SMS_PROVIDER_URL: `http://127.0.0.1:${(providerServer.address() as AddressInfo).port}/messages`,
    SMS_PROVIDER_TOKEN: 'provider-token-123',
    SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
    SMTP_FROM: 'Cashier Test <otp@cashier.test>',
    OTP_DELIVERY_ATTEMPTS: '3',
    OTP_DELIVERY_BACKOFF_MS: '20',
  });
  app = await createTestContext([VerificationModule, VerificationJobsModule], config);
  verification = app.get(VerificationService);
  users = app.get(UsersService);
});

afterAll(async () => {
  await app?.close();
  providerServer?.close();
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
});

describe('OTP delivery', () => {
  it('sends SMS through the HTTP provider with its token; the code it carries verifies', async () => {
    const phone = phoneNumber();
    const user = await newUser(phone);
    await verification.request(user.id, { method: 'otp_sms', purpose: 'withdrawal' });
    const row = await until(
      () => messageOf(user.id),
      (m) => m.status === 'sent',
    );
    expect(row).toMatchObject({ attempts: 1, provider: 'http-sms', body_enc: null, last_error: null });
    const call = provider.calls.find((c) => c.body.to === phone)!;
    expect(call.authorization).toBe('Bearer provider-token-123');
    expect(call.body).toMatchObject({ channel: 'sms', to: phone, reference: expect.any(String) });
    const issued = await verification.verifyOtp(user.id, codeIn(call.body.text), 'withdrawal');
    expect(issued.method).toBe('otp_sms');
  });

  it('sends e-mail through SMTP when SMTP_URL is set', async () => {
    const user = await newUser();
    await verification.request(user.id, { method: 'otp_email', purpose: 'withdrawal' });
    await until(
      () => messageOf(user.id),
      (m) => m.status === 'sent',
    );
    const mail = mails.find((m) => m.includes(user.email))!;
    expect(mail).toContain('Subject: Your Cashier verification code');
    expect(mail).toContain('From: Cashier Test <otp@cashier.test>');
    const issued = await verification.verifyOtp(
      user.id,
      codeIn(mail.split('\r\n\r\n').slice(1).join('\n')),
      'withdrawal',
    );
    expect(issued.method).toBe('otp_email');
  });

  it('retries with backoff until the provider takes the message', async () => {
    const phone = phoneNumber();
    const user = await newUser(phone);
    provider.script.push(503, 503);
    await verification.request(user.id, { method: 'otp_whatsapp', purpose: 'withdrawal' });
    const row = await until(
      () => messageOf(user.id),
      (m) => m.status === 'sent',
    );
    expect(row).toMatchObject({
      attempts: 3,
      last_error: 'SMS provider answered HTTP 503',
      challenge_status: 'pending',
    });
    expect(provider.calls.filter((c) => c.body.to === phone).map((c) => c.body.channel)).toEqual([
      'whatsapp',
      'whatsapp',
      'whatsapp',
    ]);
  });

  it('fails a message finally after its last attempt: admins see it, the code is closed, the user gets a notice', async () => {
    const phone = phoneNumber();
    const user = await newUser(phone);
    provider.script.push(503, 502, 500);
    await verification.request(user.id, { method: 'otp_sms', purpose: 'withdrawal' });
    const row = await until(
      () => messageOf(user.id),
      (m) => m.status === 'failed',
    );
    expect(row).toMatchObject({ attempts: 3, body_enc: null, challenge_status: 'undelivered' });
    expect(row.last_error).toBe('SMS provider answered HTTP 500');

    const failed = await app.get(OtpDeliveryService).list('failed');
    expect(failed.find((m) => m.user_id === user.id)).toMatchObject({
      channel: 'sms',
      recipient: phone,
      status: 'failed',
      attempts: 3,
      failed_at: expect.any(String),
    });
    expect(JSON.stringify(failed)).not.toMatch(/verification code is/);
    const notices = await withDb(
      async (db) => (await db.query(`SELECT message FROM notifications WHERE user_id = $1`, [user.id])).rows,
    );
    expect(notices).toEqual([{ message: deliveryFailedNotice('sms') }]);

    // The closed code cannot be verified; a new one may be asked for at once (no 30 s wait).
    const refusal = await verification.verifyOtp(user.id, '123456', 'withdrawal').catch((e: unknown) => e);
    expect((refusal as DomainError).code).toBe('OTP_NOT_REQUESTED');
    await verification.request(user.id, { method: 'otp_sms', purpose: 'withdrawal' });
    await until(
      () => messageOf(user.id),
      (m) => m.status === 'sent',
    );
  });

  it('does not retry a message the provider refuses for good (4xx)', async () => {
    const phone = phoneNumber();
    const user = await newUser(phone);
    provider.script.push(422);
    await verification.request(user.id, { method: 'otp_sms', purpose: 'withdrawal' });
    const row = await until(
      () => messageOf(user.id),
      (m) => m.status === 'failed',
    );
    expect(row).toMatchObject({ attempts: 1, last_error: 'SMS provider refused the message (HTTP 422)' });
    expect(provider.calls.filter((c) => c.body.to === phone)).toHaveLength(1);
    expect(await countRows('notifications', 'user_id = $1', [user.id])).toBe(1);
  });
});
