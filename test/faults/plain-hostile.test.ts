// Hostile frames on every plain-WebSocket endpoint (contract section 7; the issue: "every endpoint
// survives the hostile-frame list without a crash, an INTERNAL reply or a change in the ledger").
// One API process (no worker), a user with no money, thousands of frames per endpoint: text that
// is not JSON, binary frames, arrays, nulls, deep nesting, `__proto__` keys, 1 MB strings, numbers
// past 2^53, unknown types, and each field of each endpoint's frames replaced by hostile values
// (for /cashier/svc/ws, every request type of the source). Every connection must stay open (a
// frame over WS_MAX_PAYLOAD closes with 1009, checked apart), nothing may be answered INTERNAL,
// the process must log no error, and the ledger must be untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { configDirWith, withLimits } from '../helpers/config-dir.js';
import { withDb } from '../helpers/db.js';
import { signUpAndLogIn, type SignedIn } from '../helpers/factories.js';
import { brief, deepArray, deepObject, discoverRequestTypes, hostileValues, runPool } from '../helpers/hostile.js';
import { client, type Client } from '../helpers/http.js';
import { openPlain, type PlainClient } from '../helpers/plain-ws.js';

const ADMIN = { email: 'plain-hostile-admin@example.com', password: 'plain hostile admin password' };
/** Above a 1 MB string, so such a frame is parsed and answered; one above it closes with 1009. */
const MAX_PAYLOAD = 1_200_000;
const CONNECTIONS = 3;

let app: AppProcess;
let api: Client;
let adminToken: string;
let fuzz: SignedIn;
let apiKey: string;
let ledgerBefore: string;

interface Endpoint {
  path: string;
  /** Opens an authenticated connection, ready for frames. */
  open(): Promise<PlainClient>;
  /** One connection per user (a second replaces the first): fuzzed on one connection. */
  single?: boolean;
  /** A frame answered at once, sent after each hostile frame to pace the sender. */
  ping: unknown;
  isPong(frame: any): boolean;
  /** The endpoint's own frames with each field replaced by hostile values. */
  structured(): unknown[];
}

/** The code of an error frame, in whichever shape the endpoint uses. */
const codeOf = (frame: any): string | undefined =>
  typeof frame?.code === 'string' ? frame.code : typeof frame?.data?.code === 'string' ? frame.data.code : undefined;

/** Every frame of `base` with one of its fields (or a new `__proto__` one) replaced by each hostile value. */
function variants(base: Record<string, unknown>, fields: string[]): unknown[] {
  const out: unknown[] = [];
  for (const field of fields) {
    for (const { value } of hostileValues()) out.push({ ...base, [field]: value });
  }
  out.push(JSON.parse(`{"__proto__":{"admin":true},${JSON.stringify(base).slice(1)}`));
  out.push({ ...base, constructor: { prototype: { admin: true } }, unknown_field: 1 });
  return out;
}

/** What every endpoint is sent, whatever its framing: raw text, binary, and JSON that is not a frame. */
function rawFrames(): (string | Buffer)[] {
  return [
    'not json',
    '{"type":',
    '',
    ' ',
    'null',
    'true',
    '0',
    '-1',
    '1e400',
    '"text"',
    '[]',
    '[{"type":"ping"}]',
    '{}',
    '{"__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"admin":true}}}',
    `{"type":"transfer","event":"subscribe","method":"subscribe","amount":${'9'.repeat(30)}}`,
    '{"type":"get_accounts","data":{"limit":9007199254740993}}',
    '{"event":"subscribe","channel":"settings","seq":9007199254740993}',
    '{"method":"subscribe","keys":["payments"],"n":1e999}',
    '{"type":"ping","x":"\\u0000"}',
    JSON.stringify(deepArray(40)),
    JSON.stringify(deepObject(40)),
    '['.repeat(5000) + ']'.repeat(5000),
    '{"a":'.repeat(5000) + '1' + '}'.repeat(5000),
    JSON.stringify({ type: 'x'.repeat(1_000_000) }),
    JSON.stringify({ event: 'subscribe', channel: 'x'.repeat(1_000_000) }),
    JSON.stringify({ method: 'subscribe', keys: ['y'.repeat(1_000_000)] }),
    JSON.stringify({ type: 'unknown_type' }),
    JSON.stringify({ event: 'unknown_event' }),
    JSON.stringify({ method: 'unknown_method' }),
    Buffer.from([0, 1, 2, 3, 255]),
    Buffer.from('{"type":"ping"}'),
    '\uD800',
  ];
}

async function ledgerDigest(userId: string): Promise<string> {
  return withDb(async (db) => {
    const { rows } = await db.query<{ digest: string }>(
      `SELECT concat_ws('|',
         (SELECT count(*) FROM entries e JOIN accounts a ON a.id = e.account_id WHERE a.owner_user_id = $1),
         (SELECT count(*) FROM holds h JOIN accounts a ON a.id = h.account_id WHERE a.owner_user_id = $1),
         (SELECT coalesce(string_agg(concat_ws(':', id, balance, pending_debit, version), ',' ORDER BY id), '')
            FROM accounts WHERE owner_user_id = $1)) AS digest`,
      [userId],
    );
    return rows[0].digest;
  });
}

const url = (path: string, query = '') => `ws://127.0.0.1:${app.port}${path}${query}`;

function endpoints(): Endpoint[] {
  const types = discoverRequestTypes();
  return [
    {
      path: '/cashier/svc/ws',
      open: async () => {
        const plain = await openPlain(url('/cashier/svc/ws'), { authorization: `Bearer ${fuzz.accessToken}` });
        await plain.waitFor((f) => f.type === 'connected');
        return plain;
      },
      ping: { type: 'ping' },
      isPong: (f) => f.type === 'pong',
      structured: () => [
        ...variants({ type: 'get_accounts', data: {}, id: 1 }, ['type', 'data', 'id']),
        ...variants({ type: 'subscribe', data: { channel: 'settings', since: 0 } }, ['data']),
        ...types.flatMap(({ type, fields }) => [
          ...hostileValues().map(({ value }) => ({ type, data: value, id: `${type}-whole` })),
          ...fields.flatMap((field) => hostileValues().map(({ value }) => ({ type, data: { [field]: value } }))),
        ]),
      ],
    },
    {
      path: '/api/v1/ws',
      single: true,
      open: () => openPlain(url('/api/v1/ws', `?token=${fuzz.accessToken}`)),
      ping: { event: 'ping' },
      isPong: (f) => f.event === 'pong',
      structured: () => [
        ...variants({ event: 'subscribe', channel: 'notification.events' }, ['event', 'channel']),
        ...variants({ event: 'unsubscribe', channel: 'settings' }, ['event', 'channel']),
        ...variants({ event: 'ping' }, ['event']),
      ],
    },
    {
      path: '/ws',
      open: () => openPlain(url('/ws', `?token=${fuzz.accessToken}`)),
      ping: { type: 'ping' },
      isPong: (f) => f.type === 'pong',
      structured: () => [
        ...variants({ type: 'ping' }, ['type']),
        ...variants({ PaymentId: 'x', Status: 'y' }, ['Amount']),
      ],
    },
    {
      path: '/api/data',
      open: async () => {
        const plain = await openPlain(url('/api/data'));
        plain.send({ method: 'authenticate', apiKey });
        await plain.waitFor((f) => f.type === 'authenticated');
        return plain;
      },
      ping: { method: 'ping' },
      isPong: (f) => f.type === 'pong',
      structured: () => [
        ...variants({ method: 'subscribe', keys: ['payments'] }, ['method', 'keys']),
        ...hostileValues().map(({ value }) => ({ method: 'subscribe', keys: [value] })),
        ...variants({ method: 'unsubscribe', keys: ['settlements'] }, ['keys']),
        ...variants({ method: 'authenticate', apiKey: 'x' }, ['apiKey']),
      ],
    },
  ];
}

beforeAll(async () => {
  const config = configDirWith({ 'plans.json': withLimits(1_000_000, 100_000, 100) });
  const env = testEnv({
    REDIS_PREFIX: isolatedRedisPrefix(),
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    CONFIG_DIR: config,
    WS_MAX_PAYLOAD: String(MAX_PAYLOAD),
    ROLE: 'api',
  });
  app = await spawnApp({ env });
  api = client(app.url);
  adminToken = (await api.post('/api/v1/auth/login', ADMIN)).body.access_token;
  fuzz = await signUpAndLogIn(api);
  const issued = await api.post('/api/v1/user/api-keys', { name: 'fuzz' }, { token: fuzz.accessToken });
  expect(issued.status, JSON.stringify(issued.body)).toBe(201);
  apiKey = issued.body.api_key;
  ledgerBefore = await ledgerDigest(fuzz.userId);
});

afterAll(async () => {
  await app?.stop();
});

describe.each(endpoints().map((endpoint) => [endpoint.path, endpoint] as const))('%s', (_path, endpoint) => {
  it('answers thousands of hostile frames without INTERNAL, and every connection stays open', async () => {
    const frames: (string | Buffer)[] = [
      ...rawFrames(),
      ...endpoint.structured().map((frame) => JSON.stringify(frame)),
    ];
    const count = endpoint.single ? 1 : CONNECTIONS;
    const connections = await Promise.all(Array.from({ length: count }, () => endpoint.open()));
    const closes: { code: number; reason: string }[] = [];
    for (const plain of connections) void plain.closed.then((close) => closes.push(close));
    await runPool(frames, count, async (frame, index) => {
      const plain = connections[index % count];
      if (closes.length > 0) return;
      plain.sendRaw(frame);
      const mark = plain.frames.length;
      plain.send(endpoint.ping);
      await plain.waitFor((f) => endpoint.isPong(f) && plain.frames.indexOf(f) >= mark, 30_000);
    });
    // What forwarded requests answer after the pace-setting pong.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(closes, 'connections closed by the fuzz').toEqual([]);
    const answers = connections.flatMap((plain) => plain.frames);
    const internal = answers.filter((f) => codeOf(f) === 'INTERNAL' || f.unparsable !== undefined);
    expect(
      internal.map((f) => brief(f, 300)),
      'INTERNAL or unparsable answers',
    ).toEqual([]);
    const errors = answers.filter((f) => codeOf(f) !== undefined);
    expect(errors.length, 'error answers').toBeGreaterThan(rawFrames().length / 2);
    console.log(
      `${endpoint.path}: ${frames.length} hostile frames on ${count} connections, ${answers.length} answers ` +
        `(${errors.length} errors), codes: ${[...new Set(errors.map(codeOf))].sort().join(', ')}`,
    );
    for (const plain of connections) plain.close();
  }, 300_000);

  it('closes with 1009 on a frame over WS_MAX_PAYLOAD', async () => {
    const plain = await endpoint.open();
    plain.sendRaw(JSON.stringify({ type: 'ping', pad: 'x'.repeat(MAX_PAYLOAD) }));
    expect((await plain.closed).code).toBe(1009);
  });
});

describe('afterwards', () => {
  it('is still up, logged no error, and the ledger is untouched and balanced', async () => {
    const exited = await Promise.race([
      app.exited.then((code) => `exited with ${code}`),
      new Promise<string>((resolve) => setTimeout(() => resolve('running'), 100)),
    ]);
    expect(exited).toBe('running');
    expect((await api.get('/api/v1/health')).status).toBe(200);
    const errors = app
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as { level?: string | number; msg?: string }];
        } catch {
          return [];
        }
      })
      .filter((entry) => ['error', 'fatal', 50, 60].includes(entry.level ?? ''));
    expect(errors.map((e) => brief(e, 600)).slice(0, 20), 'error lines in the log').toEqual([]);
    expect(await ledgerDigest(fuzz.userId)).toBe(ledgerBefore);
    const check = await api.get('/api/v1/admin/ledger/check', { token: adminToken });
    expect(check.body).toMatchObject({ balanced: true });
  });
});
