// The service as a process: configuration refusals (one line naming the variable, exit 1), the
// embedded PostgreSQL + redis-server mode with a restart, graceful shutdown of in-flight requests,
// and the worker role processing a job.
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { describe, expect, inject, it } from 'vitest';
import { isPortOpen } from '../../src/core/infra/embedded-postgres.js';
import { spawnApp, testEnv } from '../helpers/app-process.js';
import { countRows, withDb } from '../helpers/db.js';
import { PASSWORD, signUpAndLogIn, uniqueEmail } from '../helpers/factories.js';
import { client } from '../helpers/http.js';
import { freePort, tempDir } from '../setup/infrastructure.js';

/** Starts a process expected to fail; returns its exit code, stderr lines and how long it took. */
async function failedStart(env: Record<string, string | undefined>) {
  const started = Date.now();
  const app = await spawnApp({ env, waitForReady: false });
  const code = await app.exited;
  const lines = app
    .output()
    .split('\n')
    .filter((line) => line.startsWith('cashier: '));
  return { code, lines, ms: Date.now() - started, output: app.output() };
}

describe('start-up refusals', () => {
  it('exits non-zero within 15 s with one line naming DATABASE_URL when PostgreSQL is unreachable', async () => {
    const port = await freePort();
    const result = await failedStart(testEnv({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/cashier` }));
    expect(result.code).not.toBe(0);
    expect(result.ms).toBeLessThan(15_000);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toMatch(
      /^cashier: DATABASE_URL: cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/cashier \(ECONNREFUSED/,
    );
  });

  it('names REDIS_URL when Redis is unreachable', async () => {
    const port = await freePort();
    const result = await failedStart(
      testEnv({ REDIS_URL: `redis://127.0.0.1:${port}`, DATABASE_CONNECT_TIMEOUT_MS: '1000' }),
    );
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([expect.stringMatching(/^cashier: REDIS_URL: cannot connect to Redis/)]);
  });

  it.each([
    ['PORT', { PORT: 'eighty' }, /PORT must be a whole number \(got "eighty"\)/],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://db/cashier' }, /DATABASE_URL must be a URL starting with postgres:/],
    ['ROLE', { ROLE: 'both' }, /ROLE must be one of api, worker, all/],
    ['JWT_SECRET', { JWT_SECRET: 'too-short' }, /JWT_SECRET must be at least 32 characters/],
    [
      'ADMIN_PASSWORD',
      { ADMIN_EMAIL: 'a@example.com', ADMIN_PASSWORD: undefined },
      /ADMIN_PASSWORD must be set together/,
    ],
  ])('refuses a malformed %s', async (_name, override, pattern) => {
    const result = await failedStart(testEnv(override));
    expect(result.code).toBe(1);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toMatch(/^cashier: invalid configuration: /);
    expect(result.lines[0]).toMatch(pattern);
    expect(result.output).not.toContain('too-short');
  });

  it('names the file and field of a malformed business configuration', async () => {
    const dir = tempDir('cashier-config-');
    try {
      cpSync('config', dir, { recursive: true });
      const fees = JSON.parse(readFileSync(join(dir, 'fees.json'), 'utf8')) as {
        schedule: { transfer: { default: { rate: string } } };
      };
      fees.schedule.transfer.default.rate = 'two percent';
      writeFileSync(join(dir, 'fees.json'), JSON.stringify(fees));
      const result = await failedStart(testEnv({ CONFIG_DIR: dir }));
      expect(result.code).toBe(1);
      expect(result.lines).toEqual([expect.stringMatching(/fees\.json: schedule\.transfer\.default\.rate must be/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says how to get Redis when REDIS_URL is unset and redis-server is not installed', async () => {
    const emptyPath = tempDir('cashier-path-');
    try {
      const result = await failedStart({
        ...testEnv({ REDIS_URL: undefined, PATH: emptyPath, DATA_DIR: join(emptyPath, 'data') }),
      });
      expect(result.code).toBe(1);
      expect(result.lines).toEqual([
        expect.stringMatching(
          /REDIS_URL is not set and redis-server is not installed: install it .*apt-get install redis-server.* or set REDIS_URL/,
        ),
      ]);
    } finally {
      rmSync(emptyPath, { recursive: true, force: true });
    }
  });

  it('refuses ROLE=worker without DATABASE_URL and REDIS_URL', async () => {
    const result = await failedStart({ NODE_ENV: 'test', ROLE: 'worker', LOG_LEVEL: 'warn' });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([expect.stringContaining('ROLE=worker needs DATABASE_URL and REDIS_URL')]);
  });
});

describe('embedded PostgreSQL and redis-server (no URLs given)', () => {
  it('comes up on its own, keeps users across a restart and a crash, and stops what it started', async () => {
    const dataDir = tempDir('cashier-data-');
    const [pgPort, redisPort] = [await freePort(), await freePort()];
    const env = {
      NODE_ENV: 'development',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(pgPort),
      EMBEDDED_REDIS_PORT: String(redisPort),
    };
    try {
      const app = await spawnApp({ env, timeoutMs: 60_000 });
      expect(app.output()).toContain('DATABASE_URL is not set: starting embedded PostgreSQL');
      expect(app.output()).toContain('REDIS_URL is not set: starting redis-server');
      const api = client(app.url);
      const health = await api.get('/api/v1/health');
      expect(health.body.info).toMatchObject({ database: { status: 'up' }, redis: { status: 'up' } });
      const user = await signUpAndLogIn(api);
      expect(existsSync(join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
      expect(existsSync(join(dataDir, 'redis', 'appendonlydir'))).toBe(true);

      expect(await app.stop('SIGTERM')).toBe(0);
      expect(await isPortOpen(pgPort)).toBe(false);
      expect(await isPortOpen(redisPort)).toBe(false);

      // Restart: same data, same generated JWT secret (the old access token is still good).
      const restarted = await spawnApp({ env, timeoutMs: 60_000 });
      const api2 = client(restarted.url);
      expect((await api2.get('/api/v1/user', { token: user.accessToken })).body.email).toBe(user.email);
      expect((await api2.post('/api/v1/auth/login', { email: user.email, password: PASSWORD })).status).toBe(200);

      // A crash leaves the servers running; the next start stops them and carries on.
      await restarted.stop('SIGKILL');
      const recovered = await spawnApp({ env, timeoutMs: 60_000 });
      expect(recovered.output()).toContain('left running by an earlier start');
      expect(
        (await client(recovered.url).post('/api/v1/auth/login', { email: user.email, password: PASSWORD })).status,
      ).toBe(200);
      expect(await recovered.stop('SIGTERM')).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('graceful shutdown', () => {
  it('finishes a request in flight on SIGTERM, then exits 0', async () => {
    const app = await spawnApp({ env: testEnv() });
    const email = uniqueEmail('inflight');
    const body = JSON.stringify({ email, password: PASSWORD });
    const half = Math.floor(body.length / 2);

    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        `${app.url}/api/v1/auth/signup`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, half));
      // The request is in flight: signal, wait until the service says it is shutting down, finish it.
      setTimeout(() => {
        app.child.kill('SIGTERM');
        const poll = setInterval(() => {
          if (app.output().includes('shutting down')) {
            clearInterval(poll);
            req.end(body.slice(half));
          }
        }, 10);
      }, 100);
    });

    const result = await response;
    expect(result.status, result.text).toBe(201);
    expect(await app.exited).toBe(0);
    expect(app.output()).toContain('"msg":"stopped"');
    expect(await countRows('users', 'email = $1', [email])).toBe(1);
    await expect(fetch(`${app.url}/api/v1/health`)).rejects.toThrow();
  });
});

describe('worker role', () => {
  it('runs the job processors without HTTP and purges ended sessions', async () => {
    const seeder = await spawnApp({ env: testEnv({ ROLE: 'api' }) });
    const user = await signUpAndLogIn(client(seeder.url));
    await seeder.stop();
    const ended = '11111111-1111-4111-8111-111111111111';
    await withDb((db) =>
      db.query(`INSERT INTO sessions (id, user_id, expires_at) VALUES ($1, $2, now() - interval '30 days')`, [
        ended,
        user.userId,
      ]),
    );

    const worker = await spawnApp({ env: testEnv(), entry: 'worker' });
    expect(worker.output()).toContain(
      '"queues":["maintenance","outbox","notify.otp","partner.deposit","partner.payout","deposit.expiry","market"]',
    );
    expect(worker.output()).not.toContain('listening');

    const connection = { url: inject('redisUrl') };
    const prefix = `${inject('redisPrefix')}:bull`;
    const queue = new Queue('maintenance', { connection, prefix });
    const events = new QueueEvents('maintenance', { connection, prefix });
    try {
      await events.waitUntilReady();
      const job = await queue.add('sessions.purge', { task: 'sessions.purge' });
      const result = (await job.waitUntilFinished(events, 15_000)) as { purged: number };
      expect(result.purged).toBeGreaterThanOrEqual(1);
      expect(await countRows('sessions', 'id = $1', [ended])).toBe(0);
      expect(await countRows('sessions', 'user_id = $1', [user.userId])).toBe(1);
    } finally {
      await events.close();
      await queue.close();
    }
    expect(await worker.stop('SIGTERM')).toBe(0);
  });
});
