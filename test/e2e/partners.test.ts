// Partners over the wire against the built service: get_partners on socket.io `/user` (seed 000's
// shape plus currencies, and its refusals), and the queue dashboard at /admin/queues, which only
// an admin's bearer token opens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAMES } from '../../src/core/queue/queues.js';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { signUpAndLogIn, type SignedIn } from '../helpers/factories.js';
import { client, type Client } from '../helpers/http.js';
import { connectUser, type TestSocket } from '../helpers/sockets.js';

const ADMIN = { email: 'partners-admin@example.com', password: 'partners admin password' };

let app: AppProcess;
let api: Client;
let adminToken: string;
let user: SignedIn;
let socket: TestSocket;

const ask = async (type: string, data: unknown): Promise<any> => socket.socket.timeout(5000).emitWithAck(type, data);

beforeAll(async () => {
  app = await spawnApp({
    env: testEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, REDIS_PREFIX: isolatedRedisPrefix() }),
  });
  api = client(app.url);
  adminToken = (await api.post('/api/v1/auth/login', ADMIN)).body.access_token;
  user = await signUpAndLogIn(api);
  socket = await connectUser(app.url, { token: user.accessToken });
});

afterAll(async () => {
  socket?.close();
  await app?.stop();
});

describe('get_partners over socket.io /user', () => {
  it('answers with the active partners of the service, as in seed 000 plus their currencies', async () => {
    const envelope = await ask('get_partners', { service: 'mpesa' });
    expect(envelope).toEqual({
      type: 'success',
      data: {
        message: 'partners retrieved',
        data: {
          partners: [
            {
              id: 'PTN-MPESA',
              name: 'M-Pesa Sandbox',
              country: 'KE',
              service: 'mpesa',
              status: 'active',
              currencies: ['KES', 'USD'],
            },
          ],
          count: 1,
        },
      },
      timestamp: expect.any(Number),
    });
  });

  it.each([
    ['paypal', 'PTN-PAYPAL', ['USD', 'EUR']],
    ['bank_transfer', 'PTN-BANK', ['USD', 'EUR']],
    ['crypto', 'PTN-CRYPTO', ['BTC']],
  ])('lists %s', async (service, id, currencies) => {
    const envelope = await ask('get_partners', { service });
    expect(envelope.data.data).toEqual({
      partners: [expect.objectContaining({ id, service, status: 'active', currencies })],
      count: 1,
    });
  });

  it('refuses an unknown service with UNSUPPORTED_SERVICE, naming the field', async () => {
    const envelope = await ask('get_partners', { service: 'carrier_pigeon' });
    expect(envelope).toMatchObject({
      type: 'error',
      data: {
        code: 'UNSUPPORTED_SERVICE',
        field: 'service',
        message: 'unknown service carrier_pigeon (one of bank_transfer, crypto, mpesa, paypal)',
      },
    });
  });

  it.each([
    ['no service', {}, 'service is required'],
    ['a service that is not a name', { service: 'M-PESA!' }, 'service must be a service name such as mpesa'],
    ['a number', { service: 7 }, 'service must be a string'],
    ['an unknown field', { service: 'mpesa', country: 'KE' }, 'property country should not exist'],
  ])('refuses %s with VALIDATION_FAILED', async (_label, data, message) => {
    const envelope = await ask('get_partners', data);
    expect(envelope).toMatchObject({ type: 'error', data: { code: 'VALIDATION_FAILED', message } });
  });
});

describe('queue dashboard at /admin/queues', () => {
  it('is refused without a token, with a malformed one, and for a user who is not an admin', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const anonymous = await api.get(path);
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.body).toMatchObject({ code: 'UNAUTHORIZED', status_code: 401 });
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');

      const forged = await api.get(path, { token: `${adminToken.slice(0, -4)}AAAA` });
      expect(forged.status, path).toBe(401);

      const notAdmin = await api.get(path, { token: user.accessToken });
      expect(notAdmin.status, path).toBe(403);
      expect(notAdmin.body).toMatchObject({ code: 'FORBIDDEN', status_code: 403 });
    }
    // Changing state through the dashboard's API is refused too.
    const retry = await api.put(`/admin/queues/api/queues/${QUEUE_NAMES[0]}/retry/failed`, undefined, {
      token: user.accessToken,
    });
    expect(retry.status).toBe(403);
  });

  it('opens for an admin and lists every queue', async () => {
    const page = await api.get('/admin/queues', { token: adminToken });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(String(page.body)).toContain('cashier queues');

    const queues = await api.get<{ queues: { name: string }[] }>('/admin/queues/api/queues', { token: adminToken });
    expect(queues.status).toBe(200);
    expect(queues.body.queues.map((q) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
  });

  it('is refused once the admin logs out (the session is checked, not only the signature)', async () => {
    const login = await api.post('/api/v1/auth/login', ADMIN);
    const token = login.body.access_token as string;
    expect((await api.get('/admin/queues/api/queues', { token })).status).toBe(200);
    const logout = await api.post('/api/v1/auth/logout', undefined, { token });
    expect(logout.status, JSON.stringify(logout.body)).toBeLessThan(300);
    expect((await api.get('/admin/queues/api/queues', { token })).status).toBe(401);
  });
});
