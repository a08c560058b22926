// Partners against real PostgreSQL: seeding at start-up (upsert, inactive when removed from the
// configuration, sandbox partners off in production), picking and its refusals, and the sandbox
// adapter as a real HTTP round trip: adapter → sandbox partner endpoint in a Nest app on a random
// port → signed webhook to a receiver started here, which verifies it.
import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAppConfig, type AppConfig } from '../../src/core/config/app-config.js';
import type { BusinessConfig } from '../../src/core/config/business-config.js';
import { CoreModule } from '../../src/core/core.module.js';
import { runMigrations } from '../../src/core/database/migrate.js';
import { DomainError } from '../../src/core/errors/domain-error.js';
import { configureHttp } from '../../src/core/http/configure-http.js';
import { createRootLogger } from '../../src/core/logging/logger.js';
import { PartnerRequestError } from '../../src/modules/partners/partner-adapter.js';
import { PartnerAdapters } from '../../src/modules/partners/partner-adapters.js';
import { DEV_SANDBOX_WEBHOOK_SECRET } from '../../src/modules/partners/partner-secrets.js';
import { PartnersCoreModule } from '../../src/modules/partners/partners-core.module.js';
import { PartnersService } from '../../src/modules/partners/partners.service.js';
import { SandboxPartnerModule } from '../../src/modules/partners/sandbox/sandbox-partner.module.js';
import { SandboxPartnerService } from '../../src/modules/partners/sandbox/sandbox-partner.service.js';
import { signWebhook, verifyWebhookSignature } from '../../src/modules/partners/webhook-signature.js';
import { withDb } from '../helpers/db.js';
import { createTestContext, testConfig } from '../helpers/nest.js';
import { createDatabase, dropDatabase } from '../setup/infrastructure.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);
const ref = (prefix: string) => `${prefix}-${randomBytes(5).toString('hex')}`;

/** Runs `action`, expects a DomainError with `code`, returns it. */
async function refused(action: () => unknown, code: string): Promise<DomainError> {
  const error = await Promise.resolve()
    .then(action)
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(error, `expected ${code}`).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
}

async function requestError(action: () => Promise<unknown>): Promise<PartnerRequestError> {
  const error = await action().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PartnerRequestError);
  return error as PartnerRequestError;
}

describe('seeding from the configuration', () => {
  // A database of its own: these tests retire partners, which the other test files must not see.
  const name = `cashier_partners_${randomBytes(4).toString('hex')}`;
  let url: string;
  let base: AppConfig;

  const PRODUCTION = {
    NODE_ENV: 'production',
    JWT_SECRET: 'a-jwt-secret-that-is-long-enough-0123456789',
    DATABASE_URL: 'postgres://unused@127.0.0.1/unused',
    REDIS_URL: 'redis://127.0.0.1:6379',
    VERIFICATION_HMAC_KEY: 'an-otp-hmac-key-that-is-long-enough-0123456789',
    VERIFICATION_ENCRYPTION_KEY: '0123456789abcdef'.repeat(4),
  };

  beforeAll(async () => {
    url = await createDatabase(inject('databaseServerUrl'), name);
    await runMigrations({ url, poolSize: 1, connectTimeoutMs: 10_000 });
    base = testConfig();
  });

  afterAll(async () => {
    await dropDatabase(inject('databaseServerUrl'), name);
  });

  /** Starts the partners module on the seeding database, as a process would, and stops it again. */
  async function start(
    env: Record<string, string> = {},
    partners: BusinessConfig['partners'] = base.business.partners,
  ): Promise<{ service: PartnersService; result: Awaited<ReturnType<PartnersService['sync']>> }> {
    const config = createAppConfig({
      ...testConfig(env),
      databaseUrl: url,
      business: { ...base.business, partners },
    });
    const app = await createTestContext([PartnersCoreModule], config);
    try {
      const service = app.get(PartnersService);
      // Start-up seeded already; a second sync with the same configuration must find nothing to do.
      const result = await service.sync();
      return { service, result };
    } finally {
      await app.close();
    }
  }

  async function rows() {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const result = await client.query<{
        id: string;
        name: string;
        service: string;
        country: string;
        currencies: string[];
        adapter: string;
        status: string;
        webhook_secrets: string[];
        created_at: Date;
        updated_at: Date;
      }>(`SELECT * FROM partners ORDER BY id`);
      return new Map(result.rows.map((r) => [r.id, r]));
    } finally {
      await client.end();
    }
  }

  it('inserts every configured partner, active, with the sandbox secret and the configured ones first', async () => {
    const secrets = { 'PTN-MPESA': ['mpesa-current-secret-0001', 'mpesa-previous-secret-001'] };
    const { service, result } = await start({ PARTNER_WEBHOOK_SECRETS: JSON.stringify(secrets) });
    expect(result).toEqual({ changed: [], deactivated: [] });

    const table = await rows();
    expect([...table.keys()]).toEqual(['PTN-BANK', 'PTN-CRYPTO', 'PTN-MPESA', 'PTN-PAYPAL']);
    expect(table.get('PTN-MPESA')).toMatchObject({
      name: 'M-Pesa Sandbox',
      service: 'mpesa',
      country: 'KE',
      currencies: ['KES', 'USD'],
      adapter: 'sandbox',
      status: 'active',
      webhook_secrets: [...secrets['PTN-MPESA'], DEV_SANDBOX_WEBHOOK_SECRET],
    });
    expect(table.get('PTN-CRYPTO')).toMatchObject({
      currencies: ['BTC'],
      status: 'active',
      webhook_secrets: [DEV_SANDBOX_WEBHOOK_SECRET],
    });
    expect(service.secrets('PTN-MPESA')).toEqual([...secrets['PTN-MPESA'], DEV_SANDBOX_WEBHOOK_SECRET]);
  });

  it('updates what changed and retires (never deletes) a partner removed from the configuration', async () => {
    const before = await rows();
    const partners = base.business.partners
      .filter((p) => p.id !== 'PTN-BANK')
      .map((p) => (p.id === 'PTN-MPESA' ? { ...p, name: 'M-Pesa Kenya', currencies: ['KES'] } : p));
    const { service, result } = await start({ SANDBOX_WEBHOOK_SECRET: 'rotated-sandbox-secret-0001' }, partners);
    expect(result).toEqual({ changed: [], deactivated: [] });

    const after = await rows();
    expect(after.size).toBe(4);
    expect(after.get('PTN-BANK')).toMatchObject({ status: 'inactive', name: 'Bank Transfer Sandbox' });
    expect(after.get('PTN-BANK')!.created_at).toEqual(before.get('PTN-BANK')!.created_at);
    expect(after.get('PTN-BANK')!.updated_at.getTime()).toBeGreaterThan(before.get('PTN-BANK')!.updated_at.getTime());
    expect(after.get('PTN-MPESA')).toMatchObject({
      name: 'M-Pesa Kenya',
      currencies: ['KES'],
      status: 'active',
      // PARTNER_WEBHOOK_SECRETS is no longer set: only the (rotated) sandbox secret is left.
      webhook_secrets: ['rotated-sandbox-secret-0001'],
    });

    // The retired partner is known but refused everywhere a client could choose it.
    expect(service.find('PTN-BANK')).toMatchObject({ status: 'inactive' });
    await refused(() => service.get('PTN-BANK'), 'PARTNER_INACTIVE');
    expect(service.listActive('bank_transfer')).toEqual([]);
    await refused(() => service.pick('bank_transfer', 'USD'), 'UNSUPPORTED_SERVICE');
    await refused(() => service.pick('bank_transfer', 'USD', 'PTN-BANK'), 'PARTNER_INACTIVE');
    await refused(() => service.pick('mpesa', 'USD'), 'UNSUPPORTED_CURRENCY');
    expect(service.pick('mpesa', 'KES').id).toBe('PTN-MPESA');
  });

  it('writes nothing when the configuration is unchanged, and brings a returning partner back', async () => {
    const first = await start();
    const stable = await rows();
    const again = await start();
    expect(again.result).toEqual({ changed: [], deactivated: [] });
    const unchanged = await rows();
    for (const [id, row] of unchanged) expect(row.updated_at, id).toEqual(stable.get(id)!.updated_at);
    expect(first.service.get('PTN-BANK').status).toBe('active');
    expect(unchanged.get('PTN-MPESA')).toMatchObject({ name: 'M-Pesa Sandbox', currencies: ['KES', 'USD'] });
  });

  it('keeps sandbox partners inactive and without the sandbox secret in production', async () => {
    const { service } = await start({
      ...PRODUCTION,
      PARTNER_WEBHOOK_SECRETS: JSON.stringify({ 'PTN-PAYPAL': ['paypal-production-secret-01'] }),
    });
    const table = await rows();
    for (const row of table.values()) expect(row.status, row.id).toBe('inactive');
    expect(table.get('PTN-PAYPAL')!.webhook_secrets).toEqual(['paypal-production-secret-01']);
    expect(table.get('PTN-MPESA')!.webhook_secrets).toEqual([]);
    expect(service.listActive('mpesa')).toEqual([]);
    await refused(() => service.pick('paypal', 'USD'), 'UNSUPPORTED_SERVICE');
    // Back in development they are active again.
    await start();
    expect([...(await rows()).values()].every((r) => r.status === 'active')).toBe(true);
  });

  it('agrees with itself when several instances start at once', async () => {
    await Promise.all([start(), start(), start()]);
    expect([...(await rows()).values()].map((r) => r.status)).toEqual(['active', 'active', 'active', 'active']);
  });
});

describe('PartnersService', () => {
  let app: INestApplicationContext;
  let partners: PartnersService;

  beforeAll(async () => {
    app = await createTestContext([PartnersCoreModule]);
    partners = app.get(PartnersService);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('lists the active partners of a service', () => {
    expect(partners.listActive('mpesa')).toEqual([
      {
        id: 'PTN-MPESA',
        name: 'M-Pesa Sandbox',
        service: 'mpesa',
        country: 'KE',
        currencies: ['KES', 'USD'],
        adapter: 'sandbox',
        status: 'active',
      },
    ]);
    expect(partners.listActive('crypto').map((p) => p.id)).toEqual(['PTN-CRYPTO']);
  });

  it('refuses an unknown service, naming the known ones', async () => {
    const error = await refused(() => partners.listActive('western_union'), 'UNSUPPORTED_SERVICE');
    expect(error.message).toBe('unknown service western_union (one of bank_transfer, crypto, mpesa, paypal)');
    expect(error.field).toBe('service');
  });

  it('auto-selects by service and currency, and takes a named partner that qualifies', () => {
    expect(partners.pick('paypal', 'EUR').id).toBe('PTN-PAYPAL');
    expect(partners.pick('crypto', 'BTC').id).toBe('PTN-CRYPTO');
    expect(partners.pick('mpesa', 'USD', 'PTN-MPESA').id).toBe('PTN-MPESA');
    expect(partners.pick(undefined, 'KES').id).toBe('PTN-MPESA');
  });

  it.each([
    ['unknown service', ['fax', 'USD'], 'UNSUPPORTED_SERVICE', 'service'],
    ['partner not serving the currency', ['mpesa', 'EUR', 'PTN-MPESA'], 'UNSUPPORTED_CURRENCY', 'currency'],
    ['no partner of the service serving it', ['crypto', 'USD'], 'UNSUPPORTED_CURRENCY', 'currency'],
    ['partner of another service', ['mpesa', 'USD', 'PTN-PAYPAL'], 'PARTNER_SERVICE_MISMATCH', 'partner_id'],
    ['unknown partner', ['mpesa', 'USD', 'PTN-NOBODY'], 'PARTNER_NOT_FOUND', 'partner_id'],
  ] as const)('refuses a pick with %s', async (_label, [service, currency, partnerId], code, field) => {
    const error = await refused(() => partners.pick(service, currency, partnerId), code);
    expect(error.field).toBe(field);
  });

  it('gets a partner by id, refusing an unknown one', async () => {
    expect(partners.get('PTN-BANK').service).toBe('bank_transfer');
    await refused(() => partners.get('PTN-NOBODY'), 'PARTNER_NOT_FOUND');
    await refused(() => partners.secrets('PTN-NOBODY'), 'PARTNER_NOT_FOUND');
    expect(partners.secrets('PTN-BANK')).toEqual([DEV_SANDBOX_WEBHOOK_SECRET]);
  });

  it('reads the seeded rows from the database', async () => {
    const statuses = await withDb(
      async (db) => (await db.query<{ id: string; status: string }>(`SELECT id, status FROM partners`)).rows,
    );
    expect(statuses).toEqual(
      expect.arrayContaining(
        ['PTN-MPESA', 'PTN-PAYPAL', 'PTN-BANK', 'PTN-CRYPTO'].map((id) => ({ id, status: 'active' })),
      ),
    );
  });
});

interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: any;
}

/** A tiny HTTP server standing in for the webhook endpoint; answers with `status(delivery, n)`. */
async function startReceiver(status: (delivery: Delivery, n: number) => number = () => 200) {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const delivery = { path: req.url ?? '', headers: req.headers, raw, body: JSON.parse(raw.toString()) };
      deliveries.push(delivery);
      res.statusCode = status(delivery, deliveries.length);
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    deliveries,
    /** Deliveries of one request_ref, waiting until there are `n`. */
    async of(requestRef: string, n = 1, timeoutMs = 5000): Promise<Delivery[]> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = deliveries.filter((d) => d.body.request_ref === requestRef);
        if (found.length >= n || Date.now() > deadline) return found;
        await sleep(10);
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The API as the sandbox partners need it: HTTP with the real pipeline, on a random port. */
async function startSandboxApp(env: Record<string, string>): Promise<NestExpressApplication> {
  const config = testConfig(env);
  const moduleRef = await Test.createTestingModule({
    imports: [CoreModule.forRoot(config, createRootLogger(config.env.LOG_LEVEL)), SandboxPartnerModule],
  }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false });
  configureHttp(app, config);
  await app.listen(0, '127.0.0.1');
  return app;
}

const portOf = (app: INestApplication) => (app.getHttpServer() as Server).address() as AddressInfo;

describe('the sandbox adapter: a real HTTP round trip ending in a signed webhook', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let app: NestExpressApplication;
  let adapters: PartnerAdapters;
  let partners: PartnersService;
  const flaky = new Map<string, number>();

  beforeAll(async () => {
    // request refs starting with FLAKY- are answered 503 twice before 200; REFUSE- with 400.
    receiver = await startReceiver((delivery) => {
      const requestRef = String(delivery.body.request_ref);
      if (requestRef.startsWith('REFUSE-')) return 400;
      if (!requestRef.startsWith('FLAKY-')) return 200;
      const seen = (flaky.get(requestRef) ?? 0) + 1;
      flaky.set(requestRef, seen);
      return seen <= 2 ? 503 : 200;
    });
    // SANDBOX_URL is left unset: the adapter finds the sandbox at the port the app listens on.
    app = await startSandboxApp({ WEBHOOK_BASE_URL: receiver.url, SANDBOX_DELAY_MS: '20' });
    adapters = app.get(PartnerAdapters);
    partners = app.get(PartnersService);
  });

  afterAll(async () => {
    await app?.close();
    await receiver?.close();
  });

  it('deposit: accepted with a partner reference, then deposit.completed arrives signed, and verifies', async () => {
    const requestRef = ref('DEP-REQ');
    const sentAt = nowSeconds();
    const { partnerReference } = await adapters
      .for('PTN-MPESA')
      .requestDeposit({ requestRef, amountMinor: 150_050n, currency: 'KES', partnerId: 'PTN-MPESA' });
    expect(partnerReference).toMatch(/^SBX-[0-9a-f-]{36}$/);

    const [delivery] = await receiver.of(requestRef);
    expect(delivery.path).toBe('/api/v1/webhooks/partners/PTN-MPESA');
    expect(delivery.headers['content-type']).toBe('application/json');
    expect(delivery.body).toEqual({
      event_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      type: 'deposit.completed',
      request_ref: requestRef,
      partner_reference: partnerReference,
      amount: '1500.50',
      currency: 'KES',
    });

    const header = delivery.headers['x-signature'] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const t = Number(/^t=(\d+)/.exec(header)![1]);
    expect(t).toBeGreaterThanOrEqual(sentAt);
    expect(verifyWebhookSignature([DEV_SANDBOX_WEBHOOK_SECRET], header, delivery.raw, nowSeconds())).toBe(true);

    const partner = partners.get('PTN-MPESA');
    const adapter = adapters.for('PTN-MPESA');
    expect(await adapter.verifyWebhook(partner, delivery.headers, delivery.raw, new Date())).toBe(true);
    // The same delivery with the body changed, signed by someone else, or replayed 301 s later: refused.
    const tampered = Buffer.from(delivery.raw.toString().replace('"1500.50"', '"9500.50"'));
    expect(await adapter.verifyWebhook(partner, delivery.headers, tampered, new Date())).toBe(false);
    const forged = { ...delivery.headers, 'x-signature': signWebhook('not-the-sandbox-secret', t, delivery.raw) };
    expect(await adapter.verifyWebhook(partner, forged, delivery.raw, new Date())).toBe(false);
    expect(await adapter.verifyWebhook(partner, delivery.headers, delivery.raw, new Date((t + 301) * 1000))).toBe(
      false,
    );
    expect(
      await adapter.verifyWebhook(partner, { ...delivery.headers, 'x-signature': undefined }, delivery.raw, new Date()),
    ).toBe(false);
  });

  it('payout of an amount with 13 cents: payout.failed with "Payment timeout"', async () => {
    const requestRef = ref('WDL-REQ');
    const { partnerReference } = await adapters.for('PTN-PAYPAL').requestPayout({
      requestRef,
      amountMinor: 10_013n,
      currency: 'USD',
      destination: 'someone@example.com',
      partnerId: 'PTN-PAYPAL',
    });
    const [delivery] = await receiver.of(requestRef);
    expect(delivery.path).toBe('/api/v1/webhooks/partners/PTN-PAYPAL');
    expect(delivery.body).toEqual({
      event_id: expect.any(String),
      type: 'payout.failed',
      request_ref: requestRef,
      partner_reference: partnerReference,
      amount: '100.13',
      currency: 'USD',
      error: 'Payment timeout',
    });
    expect(
      verifyWebhookSignature(
        partners.secrets('PTN-PAYPAL'),
        delivery.headers['x-signature'] as string,
        delivery.raw,
        nowSeconds(),
      ),
    ).toBe(true);
  });

  it('reads the cents as the first two places in every currency (BTC 0.13 fails; 0.0013 BTC and 13.00 EUR succeed)', async () => {
    const failing = ref('DEP-REQ');
    const passing = ref('DEP-REQ');
    const crypto = adapters.for('PTN-CRYPTO');
    await crypto.requestDeposit({
      requestRef: failing,
      amountMinor: 13_000_000n,
      currency: 'BTC',
      partnerId: 'PTN-CRYPTO',
    });
    await crypto.requestDeposit({
      requestRef: passing,
      amountMinor: 130_000n,
      currency: 'BTC',
      partnerId: 'PTN-CRYPTO',
    });
    const [failed] = await receiver.of(failing);
    const [completed] = await receiver.of(passing);
    expect(failed.body).toMatchObject({ type: 'deposit.failed', amount: '0.13000000', error: 'Payment timeout' });
    expect(completed.body).toMatchObject({ type: 'deposit.completed', amount: '0.00130000' });
    expect(completed.body).not.toHaveProperty('error');
    // 13 whole euros have 00 cents.
    const thirteenEuros = ref('DEP-REQ');
    await adapters
      .for('PTN-BANK')
      .requestDeposit({ requestRef: thirteenEuros, amountMinor: 1_300n, currency: 'EUR', partnerId: 'PTN-BANK' });
    expect((await receiver.of(thirteenEuros))[0].body).toMatchObject({ type: 'deposit.completed', amount: '13.00' });
  });

  it('retries the webhook on 5xx with the same event, re-signed, until it is taken', async () => {
    const requestRef = ref('FLAKY');
    await adapters
      .for('PTN-MPESA')
      .requestDeposit({ requestRef, amountMinor: 500n, currency: 'USD', partnerId: 'PTN-MPESA' });
    const attempts = await receiver.of(requestRef, 3);
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.body.event_id)).size).toBe(1);
    for (const attempt of attempts) {
      expect(
        verifyWebhookSignature(
          [DEV_SANDBOX_WEBHOOK_SECRET],
          attempt.headers['x-signature'] as string,
          attempt.raw,
          nowSeconds(),
        ),
      ).toBe(true);
    }
    await sleep(300);
    expect(await receiver.of(requestRef)).toHaveLength(3);
  });

  it('does not retry a webhook the receiver refuses with 4xx', async () => {
    const requestRef = ref('REFUSE');
    await adapters
      .for('PTN-MPESA')
      .requestDeposit({ requestRef, amountMinor: 500n, currency: 'USD', partnerId: 'PTN-MPESA' });
    expect(await receiver.of(requestRef)).toHaveLength(1);
    await sleep(500);
    expect(await receiver.of(requestRef)).toHaveLength(1);
  });

  it('treats the same request sent twice (a retried job) as one: same reference, one webhook', async () => {
    const requestRef = ref('DEP-REQ');
    const request = { requestRef, amountMinor: 2_500n, currency: 'EUR', partnerId: 'PTN-PAYPAL' };
    const [first, second] = await Promise.all([
      adapters.for('PTN-PAYPAL').requestDeposit(request),
      adapters.for('PTN-PAYPAL').requestDeposit(request),
    ]);
    expect(second.partnerReference).toBe(first.partnerReference);
    await receiver.of(requestRef);
    await sleep(200);
    expect(await receiver.of(requestRef)).toHaveLength(1);
  });

  it('throws when the sandbox partner refuses: unknown partner, currency it does not serve, bad amount', async () => {
    const crypto = adapters.for('PTN-CRYPTO');
    const unserved = await requestError(() =>
      crypto.requestDeposit({
        requestRef: ref('DEP-REQ'),
        amountMinor: 100n,
        currency: 'USD',
        partnerId: 'PTN-CRYPTO',
      }),
    );
    expect(unserved).toMatchObject({ status: 422, retryable: false, partnerId: 'PTN-CRYPTO' });
    expect(unserved.message).toContain('UNSUPPORTED_CURRENCY');

    // An adapter asked for a partner the sandbox does not know (the path is the partner's).
    const unknown = await requestError(() =>
      crypto.requestDeposit({
        requestRef: ref('DEP-REQ'),
        amountMinor: 100n,
        currency: 'BTC',
        partnerId: 'PTN-NOBODY',
      }),
    );
    expect(unknown).toMatchObject({ status: 404, retryable: false });

    const zero = await requestError(() =>
      crypto.requestDeposit({ requestRef: ref('DEP-REQ'), amountMinor: 0n, currency: 'BTC', partnerId: 'PTN-CRYPTO' }),
    );
    expect(zero.retryable).toBe(false);
    await refused(() => adapters.for('PTN-NOBODY'), 'PARTNER_NOT_FOUND');
  });

  it('validates what the sandbox endpoint is sent', async () => {
    const endpoint = `http://127.0.0.1:${portOf(app).port}/api/v1/sandbox/partners/PTN-MPESA/requests`;
    const post = (body: unknown) =>
      fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const good = { kind: 'deposit', request_ref: ref('DEP-REQ'), amount: '10.00', currency: 'KES' };
    const accepted = await post(good);
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toEqual({ partner_reference: expect.stringMatching(/^SBX-/) });
    for (const bad of [
      { ...good, kind: 'refund' },
      { ...good, amount: 10 },
      { ...good, amount: '10.001' },
      { ...good, amount: '-1' },
      { ...good, request_ref: '' },
      { ...good, extra: true },
    ]) {
      const response = await post({ ...bad, request_ref: bad.request_ref === '' ? '' : ref('DEP-REQ') });
      expect(response.status, JSON.stringify(bad)).toBe(400);
    }
  });

  it('throws a retryable error when the sandbox is unreachable', async () => {
    const closed = await startReceiver();
    await closed.close();
    const lone = await createTestContext([PartnersCoreModule], testConfig({ SANDBOX_URL: closed.url }));
    try {
      const error = await requestError(() =>
        lone
          .get(PartnerAdapters)
          .for('PTN-MPESA')
          .requestDeposit({
            requestRef: ref('DEP-REQ'),
            amountMinor: 100n,
            currency: 'KES',
            partnerId: 'PTN-MPESA',
          }),
      );
      expect(error.retryable).toBe(true);
      expect(error.message).toContain('unreachable');
    } finally {
      await lone.close();
    }
  });
});

describe('the sandbox partner on shutdown', () => {
  it('drops pending webhooks: nothing is sent after the application closes, and closing does not wait', async () => {
    const receiver = await startReceiver();
    const app = await startSandboxApp({ WEBHOOK_BASE_URL: receiver.url, SANDBOX_DELAY_MS: '60000' });
    try {
      const requestRef = ref('DEP-REQ');
      await app
        .get(PartnerAdapters)
        .for('PTN-MPESA')
        .requestDeposit({ requestRef, amountMinor: 100n, currency: 'KES', partnerId: 'PTN-MPESA' });
      const sandbox = app.get(SandboxPartnerService);
      expect(sandbox.pending).toBe(1);
      const started = Date.now();
      await app.close();
      expect(Date.now() - started).toBeLessThan(5000);
      expect(sandbox.pending).toBe(0);
      await sleep(100);
      expect(receiver.deliveries).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });
});
