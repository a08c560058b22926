// Hostile input on every request type and endpoint (the issue: "0 INTERNAL, 0 crashes, ledger
// unchanged"). One API process without a worker (a deposit a fuzzed request creates is never sent
// to a partner, and is cancelled at once anyway), a user with no money and no verification token
// (no transfer, withdrawal or conversion of theirs can succeed), and thousands of hostile variants
// of every socket.io request type read from the source, raw socket.io frames, and every REST route
// read from the OpenAPI document. Nothing may be answered INTERNAL or 500, the process must stay
// up without logging an unhandled error, and the ledger must be untouched.
import { randomInt } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { configDirWith, withLimits } from '../helpers/config-dir.js';
import { withDb } from '../helpers/db.js';
import { PASSWORD, signUpAndLogIn, uniqueEmail, type SignedIn } from '../helpers/factories.js';
import {
  brief,
  deepArray,
  discoverRequestTypes,
  dtoFieldNames,
  hostileValues,
  nonObjects,
  runPool,
  type RequestType,
} from '../helpers/hostile.js';
import { client, request, type Client, type HttpResult } from '../helpers/http.js';
import { connectUser, type TestSocket } from '../helpers/sockets.js';

const ADMIN = { email: 'hostile-admin@example.com', password: 'hostile admin password' };
const SEED = 20_240_601;
const SOCKETS = 4;
const IN_FLIGHT = 16;
const ACK_TIMEOUT_MS = 15_000;
/** Random variants (fast-check, fixed seed) of each kind per request type. */
const RANDOM_PER_TYPE = 80;
/** Requests that move money: the fuzz user has none, so none of them may succeed. */
const MONEY_MOVING = new Set(['transfer', 'convert_and_transfer', 'withdraw_request', 'place_order']);
/** Field names worth trying on every request type, whether or not its DTO declares them. */
const GENERIC_FIELDS = [
  'amount',
  'currency',
  'to_user_id',
  'ids',
  'limit',
  'offset',
  'channel',
  'since',
  'idempotency_key',
];
/** Keys that are dangerous as object keys, sent as unknown fields. */
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];

interface Envelope {
  type?: 'success' | 'error';
  ok?: boolean;
  data?: { message?: string; code?: string; field?: string; data?: any };
  error?: { code?: string; message?: string };
  timestamp?: number;
}

let app: AppProcess;
let api: Client;
let adminToken: string;
let fuzz: SignedIn;
let target: SignedIn;
/** A user whose session the REST fuzz may end (logout, channel rotation). */
let expendable: SignedIn;
let sockets: TestSocket[];
let usdAccount: string;
let ledgerBefore: LedgerSnapshot;

interface LedgerSnapshot {
  journals: number;
  entries: number;
  holds: number;
  accounts: string;
}

/**
 * The rows of journals, entries and holds that touch the test's users, and their accounts'
 * balances, pending amounts and versions. (The e2e files share one database and may run at once,
 * so the whole tables' counts would move with the other files' work.) The deposits the fuzz
 * creates and cancels at once are left out: each announced its credit on the wallet with a hold
 * (pending_credit) that its cancel released, two versions of the wallet and nothing else.
 */
async function ledgerOf(userIds: string[]): Promise<LedgerSnapshot> {
  return withDb(async (db) => {
    const accounts = `SELECT id FROM accounts WHERE owner_user_id = ANY($1::bigint[])`;
    const cancelled = `SELECT h.id, h.account_id FROM holds h JOIN deposits d ON h.reference = 'deposit:' || d.id
                        WHERE d.status = 'cancelled' AND h.status = 'released' AND h.direction = 'CR'`;
    const one = async (text: string) => Number((await db.query<{ n: string }>(text, [userIds])).rows[0].n);
    const journals = await one(
      `SELECT count(*) AS n FROM journals j WHERE j.initiated_by = ANY($1::bigint[])
          OR EXISTS (SELECT 1 FROM entries e WHERE e.journal_id = j.id AND e.account_id IN (${accounts}))`,
    );
    const entries = await one(`SELECT count(*) AS n FROM entries WHERE account_id IN (${accounts})`);
    const holds = await one(
      `SELECT count(*) AS n FROM holds WHERE account_id IN (${accounts}) AND id NOT IN (SELECT id FROM (${cancelled}) c)`,
    );
    const { rows } = await db.query<{ digest: string }>(
      `WITH cancelled AS (SELECT account_id, count(*) AS n FROM (${cancelled}) c GROUP BY account_id)
       SELECT coalesce(string_agg(concat_ws(':', a.id, a.balance, a.pending_debit, a.pending_credit,
                a.version - 2 * coalesce(c.n, 0)), ',' ORDER BY a.id), '') AS digest
         FROM accounts a LEFT JOIN cancelled c ON c.account_id = a.id
        WHERE a.owner_user_id = ANY($1::bigint[])`,
      [userIds],
    );
    return { journals, entries, holds, accounts: rows[0].digest };
  });
}

async function expectLedgerBalanced(): Promise<void> {
  const check = await api.get('/api/v1/admin/ledger/check', { token: adminToken });
  expect(check.status, JSON.stringify(check.body)).toBe(200);
  expect(check.body).toMatchObject({ balanced: true });
}

/** What is wrong with an answer to a socket request, or undefined when it is acceptable. */
function problemOf(type: string, answer: unknown): string | undefined {
  if (typeof answer !== 'object' || answer === null) return 'not an envelope';
  const envelope = answer as Envelope;
  if (typeof envelope.ok === 'boolean') {
    // `channel` and `leave` answer {ok, channel, seq} or {ok:false, error:{code, message}}.
    if (envelope.ok) return undefined;
    if (typeof envelope.error?.code !== 'string' || typeof envelope.error.message !== 'string') {
      return 'refusal without code or message';
    }
    return envelope.error.code === 'INTERNAL' ? 'INTERNAL' : undefined;
  }
  if (envelope.type === 'success') {
    return MONEY_MOVING.has(type) ? 'a money-moving request of a user with no money succeeded' : undefined;
  }
  if (envelope.type !== 'error') return 'not an envelope';
  if (typeof envelope.data?.code !== 'string' || typeof envelope.data.message !== 'string') {
    return 'error without code or message';
  }
  if (typeof envelope.timestamp !== 'number') return 'error without timestamp';
  if (envelope.data.code === 'INTERNAL') return 'INTERNAL';
  if (envelope.data.code === 'SERVICE_UNAVAILABLE') return 'SERVICE_UNAVAILABLE';
  if (envelope.data.code === 'RATE_LIMIT_EXCEEDED') return 'rate-limited (the fuzz would not reach the handlers)';
  return undefined;
}

interface Finding {
  what: string;
  request: string;
  answer: string;
}

function report(title: string, findings: Finding[]): string {
  const lines = findings.slice(0, 60).map((f) => `  ${f.what}: ${f.request}\n      → ${f.answer}`);
  const more = findings.length > 60 ? `\n  … and ${findings.length - 60} more` : '';
  return `${title}: ${findings.length}\n${lines.join('\n')}${more}`;
}

/** A plausible request of each known type: the hostile value replaces one field of it. */
function plausibleBase(type: string): Record<string, unknown> {
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();
  const bases: Record<string, Record<string, unknown>> = {
    verification_request: {
      method: 'otp_email',
      purpose: 'withdrawal',
      amount: '1.00',
      currency: 'USD',
      destination: '+254712345678',
    },
    verify_otp: { code: '123456', purpose: 'withdrawal' },
    verify_totp: { code: '123456', purpose: 'withdrawal' },
    get_partners: { service: 'mpesa' },
    get_account_balance: { account_number: usdAccount },
    deposit_request: { amount: '10.00', currency: 'USD', service: 'mpesa' },
    get_deposit_status: { request_ref: 'DEP-REQ-20250101-001' },
    cancel_deposit: { request_ref: 'DEP-REQ-20250101-001' },
    withdraw_request: {
      amount: '1.00',
      currency: 'USD',
      destination: '+254712345678',
      service: 'mpesa',
      verification_token: 'x'.repeat(43),
    },
    get_history: { type: 'all', limit: 10, offset: 0 },
    transfer: { to_user_id: target.userId, amount: '1.00', currency: 'USD', description: 'fuzz' },
    convert_and_transfer: { from_currency: 'USD', to_currency: 'EUR', amount: '1.00', to_user_id: target.userId },
    get_ledgers: { account_number: usdAccount, limit: 10, offset: 0 },
    get_account_statement: { account_number: usdAccount, from: day(-1), to: day(0) },
    get_owner_statement: { from: day(-1), to: day(0) },
    get_transaction_by_receipt: { receipt_code: 'RCP-2025-1' },
    calculate_fee: { transaction_type: 'transfer', amount: '1.00', source_currency: 'USD' },
    get_notifications: { limit: 10, offset: 0 },
    mark_notifications_read: { ids: [1] },
    refresh: { access_token: 'not-a-token' },
    channel: { channel: 'settings', since: 0 },
    leave: { channel: 'settings' },
  };
  return { ...(bases[type] ?? {}) };
}

interface SocketCase {
  type: string;
  label: string;
  /** The arguments after the event name (before the ack). */
  args: unknown[];
}

/** Every hostile variant of every request type. */
function socketCases(types: RequestType[], allFields: string[]): SocketCase[] {
  const cases: SocketCase[] = [];
  const values = hostileValues();
  const runs = Math.max(types.length * RANDOM_PER_TYPE, 1);
  const random = fc.sample(fc.jsonValue({ maxDepth: 5 }), { seed: SEED, numRuns: runs });
  const randomObjects = fc.sample(fc.object({ maxDepth: 3 }), { seed: SEED + 1, numRuns: runs });
  let r = 0;
  for (const { type, fields } of types) {
    const base = plausibleBase(type);
    // (a) payloads that are not objects, none at all, and more than one.
    for (const { label, value } of nonObjects()) cases.push({ type, label: `payload ${label}`, args: [value] });
    cases.push({ type, label: 'no payload', args: [] });
    cases.push({ type, label: 'two payloads', args: [base, base] });
    // (b) an empty object, and the plausible base itself.
    cases.push({ type, label: '{}', args: [{}] });
    cases.push({ type, label: 'plausible', args: [base] });
    // (c) every field of the type (and the generic ones) replaced by every hostile value.
    const own = [...new Set([...fields, ...Object.keys(base), ...GENERIC_FIELDS])];
    for (const field of own) {
      for (const { label, value } of values) {
        cases.push({ type, label: `${field}=${label}`, args: [{ ...base, [field]: value }] });
      }
      cases.push({
        type,
        label: `without ${field}`,
        args: [Object.fromEntries(Object.entries(base).filter(([k]) => k !== field))],
      });
    }
    // (d) unknown fields: every other DTO field name and prototype keys, added to the base.
    for (const field of [...allFields.filter((f) => !own.includes(f)), ...PROTOTYPE_KEYS, 'k'.repeat(10_000), '']) {
      cases.push({ type, label: `+${field}=null`, args: [{ ...base, [field]: null }] });
      cases.push({
        type,
        label: `+${field}=own __proto__`,
        args: [{ ...base, [field]: JSON.parse('{"__proto__":{"admin":true}}') }],
      });
    }
    // Random JSON (fast-check, fixed seed): whole payloads, one field replaced, objects merged in.
    for (let i = 0; i < RANDOM_PER_TYPE; i += 1, r += 1) {
      cases.push({ type, label: `random payload #${r}`, args: [random[r % random.length]] });
      const field = own[r % own.length];
      cases.push({
        type,
        label: `${field}=random #${r}`,
        args: [{ ...base, [field]: random[(r * 7 + 3) % random.length] }],
      });
      cases.push({
        type,
        label: `base+random object #${r}`,
        args: [{ ...base, ...randomObjects[r % randomObjects.length] }],
      });
    }
  }
  // Event names that no handler takes, and names that are dangerous as object keys.
  for (const type of ['', 'x'.repeat(10_000), '__malformed__', 'response', 'stream', ...PROTOTYPE_KEYS]) {
    cases.push({ type, label: 'unknown request type', args: [{}] });
  }
  return cases;
}

const ask = (socket: TestSocket, type: string, args: unknown[]): Promise<unknown> =>
  socket.socket.timeout(ACK_TIMEOUT_MS).emitWithAck(type, ...args);

beforeAll(async () => {
  app = await spawnApp({
    env: testEnv({
      ROLE: 'api',
      REDIS_PREFIX: isolatedRedisPrefix(),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      CONFIG_DIR: configDirWith({ 'plans.json': withLimits(1_000_000, 100_000, 50) }),
    }),
  });
  api = client(app.url);
  const login = await api.post('/api/v1/auth/login', ADMIN);
  expect(login.status, JSON.stringify(login.body)).toBe(200);
  adminToken = login.body.access_token;
  [fuzz, target, expendable] = await Promise.all([signUpAndLogIn(api), signUpAndLogIn(api), signUpAndLogIn(api)]);
  sockets = await Promise.all(Array.from({ length: SOCKETS }, () => connectUser(app.url, { token: fuzz.accessToken })));
  const accounts = (await ask(sockets[0], 'get_accounts', [{}])) as Envelope;
  expect(accounts.type, JSON.stringify(accounts)).toBe('success');
  const wallets = accounts.data!.data.accounts as { account_number: string; currency: string; balance: number }[];
  expect(wallets.every((w) => w.balance === 0)).toBe(true);
  usdAccount = wallets.find((w) => w.currency === 'USD')!.account_number;
  ledgerBefore = await ledgerOf([fuzz.userId, target.userId, expendable.userId]);
  await expectLedgerBalanced();
});

afterAll(async () => {
  for (const socket of sockets ?? []) socket.close();
  await app?.stop();
});

describe('socket.io requests', () => {
  it('finds the request types in the source', () => {
    const types = discoverRequestTypes().map((t) => t.type);
    expect(types.length).toBeGreaterThan(10);
    expect(types).toEqual(expect.arrayContaining(['transfer', 'withdraw_request', 'get_accounts', 'deposit_request']));
    expect(dtoFieldNames()).toEqual(expect.arrayContaining(['amount', 'to_user_id', 'ids', 'destination']));
  });

  it('answers thousands of hostile variants of every request type, none with INTERNAL', async () => {
    const types = discoverRequestTypes();
    const cases = socketCases(types, [...new Set([...dtoFieldNames(), ...GENERIC_FIELDS])]);
    expect(cases.length).toBeGreaterThanOrEqual(5000);
    const findings: Finding[] = [];
    const codes = new Map<string, number>();
    let deposits = 0;
    const started = Date.now();
    await runPool(cases, IN_FLIGHT, async ({ type, label, args }, index) => {
      const socket = sockets[index % SOCKETS];
      const request = `${type.slice(0, 40)} [${label}] ${brief(args)}`;
      let answer: unknown;
      try {
        answer = await ask(socket, type, args);
      } catch (error) {
        findings.push({ what: 'no answer', request, answer: String(error) });
        return;
      }
      const envelope = answer as Envelope;
      const code =
        envelope?.data?.code ?? envelope?.error?.code ?? (envelope?.ok || envelope?.type === 'success' ? 'ok' : '?');
      codes.set(code, (codes.get(code) ?? 0) + 1);
      const problem = problemOf(type, answer);
      if (problem) findings.push({ what: problem, request, answer: brief(answer, 300) });
      // A deposit a plausible variant created is cancelled at once: nothing is ever sent for it.
      if (type === 'deposit_request' && envelope?.type === 'success') {
        deposits += 1;
        const ref = envelope.data?.data?.request_ref as string;
        const cancel = (await ask(socket, 'cancel_deposit', [{ request_ref: ref }])) as Envelope;
        const cancelProblem = problemOf('cancel_deposit', cancel);
        if (cancelProblem) {
          findings.push({ what: cancelProblem, request: `cancel_deposit ${ref}`, answer: brief(cancel) });
        }
      }
    });
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `socket fuzz: ${cases.length} requests over ${types.length} request types in ${seconds.toFixed(1)} s ` +
        `(${deposits} deposits created and cancelled); answers by code: ${JSON.stringify(Object.fromEntries(codes))}`,
    );
    expect(findings, report('socket requests answered wrongly', findings)).toEqual([]);
    expect(sockets.every((s) => s.socket.connected)).toBe(true);
  }, 120_000);
});

/** Writes a raw socket.io packet on `socket`'s connection and resolves to the ack it gets. */
let nextRawId = 900_000;
function rawAsk(socket: TestSocket, frame: (id: number) => string, timeoutMs = 5000): Promise<Envelope> {
  const id = (nextRawId += 1);
  const acks = (socket.socket as unknown as { acks: Record<number, (answer: Envelope) => void> }).acks;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      delete acks[id];
      reject(new Error(`no ack ${id} within ${timeoutMs} ms`));
    }, timeoutMs);
    acks[id] = (answer) => {
      clearTimeout(timer);
      resolve(answer);
    };
    socket.socket.io.engine.write(frame(id));
  });
}

describe('raw socket.io frames', () => {
  const inexact = ['0.999999999999999999999', '9007199254740993', '1e400'];

  it('answers frames the parser refuses with an error envelope on the ack and keeps the connection', async () => {
    const socket = sockets[0];
    const transfer = (amount: string) =>
      `["transfer",{"to_user_id":"${target.userId}","currency":"USD","amount":${amount}}]`;
    const frames: { label: string; text: string; code: string; field?: string }[] = [
      {
        label: '1,300 nested arrays (2.7 KB)',
        text: `["transfer",${'['.repeat(1300)}${']'.repeat(1300)}]`,
        code: 'INVALID_REQUEST',
      },
      {
        label: '1,300 nested arrays in amount',
        text: transfer(`${'['.repeat(1300)}${']'.repeat(1300)}`),
        code: 'INVALID_REQUEST',
      },
      {
        label: '33 nested objects',
        text: `["get_history",${'{"a":'.repeat(33)}1${'}'.repeat(33)}]`,
        code: 'INVALID_REQUEST',
      },
      ...inexact.map((n) => ({
        label: `transfer amount ${n}`,
        text: transfer(n),
        code: 'VALIDATION_FAILED',
        field: 'amount',
      })),
      ...inexact.map((n) => ({
        label: `mark_notifications_read ids [${n}]`,
        text: `["mark_notifications_read",{"ids":[${n}]}]`,
        code: 'VALIDATION_FAILED',
        field: 'ids',
      })),
      {
        label: 'get_notifications offset 1e20',
        text: '["get_notifications",{"offset":1e20}]',
        code: 'VALIDATION_FAILED',
      },
      {
        label: 'get_notifications offset 1e400',
        text: '["get_notifications",{"offset":1e400}]',
        code: 'VALIDATION_FAILED',
      },
      { label: 'broken JSON', text: '["transfer",{"amount":', code: 'INVALID_REQUEST' },
      { label: 'trailing garbage', text: '["transfer",{}]]]', code: 'INVALID_REQUEST' },
      { label: 'unquoted key', text: '["transfer",{amount:1}]', code: 'INVALID_REQUEST' },
      { label: 'object payload', text: '{"type":"transfer"}', code: 'INVALID_REQUEST' },
      { label: 'string payload', text: '"transfer"', code: 'INVALID_REQUEST' },
      { label: 'boolean payload (digits would run into the ack id)', text: 'true', code: 'INVALID_REQUEST' },
      { label: 'null payload', text: 'null', code: 'INVALID_REQUEST' },
      { label: 'empty array', text: '[]', code: 'INVALID_REQUEST' },
      { label: 'numeric event name', text: '[42,{}]', code: 'INVALID_REQUEST' },
      { label: 'reserved event name', text: '["connect",{}]', code: 'INVALID_REQUEST' },
      { label: 'the parser’s own event name', text: '["__malformed__",{}]', code: 'INVALID_REQUEST' },
      {
        label: 'the parser’s own event name naming a type',
        text: '["__malformed__",{},"transfer"]',
        code: 'INVALID_REQUEST',
      },
      { label: 'three arguments', text: '["transfer",{},{}]', code: 'INVALID_REQUEST' },
      { label: 'array data', text: '["transfer",[{"amount":"1.00"}]]', code: 'INVALID_REQUEST' },
      { label: 'lone surrogate', text: '["transfer",{"currency":"\\ud800"}]', code: 'VALIDATION_FAILED' },
      {
        label: 'NUL escape in a string',
        text: '["get_partners",{"service":"mp\\u0000esa"}]',
        code: 'VALIDATION_FAILED',
      },
    ];
    const findings: Finding[] = [];
    for (const { label, text, code, field } of frames) {
      let answer: Envelope;
      try {
        answer = await rawAsk(socket, (id) => `2/user,${id}${text}`);
      } catch (error) {
        findings.push({ what: 'no answer', request: `${label}: ${text.slice(0, 80)}`, answer: String(error) });
        continue;
      }
      const ok = answer.type === 'error' && answer.data?.code === code && (!field || answer.data.field === field);
      if (!ok) {
        findings.push({
          what: `expected ${code}${field ? ` on ${field}` : ''}`,
          request: `${label}: ${text.slice(0, 80)}`,
          answer: brief(answer, 300),
        });
      }
    }
    expect(findings, report('raw frames answered wrongly', findings)).toEqual([]);
    expect(socket.socket.connected).toBe(true);

    // Without an ack id the refusal comes as a `response` event naming the request type.
    const seen = socket.received.length;
    socket.socket.io.engine.write(`2/user,["transfer",${'['.repeat(1300)}${']'.repeat(1300)}]`);
    const response = await socket.waitFor(
      'response',
      (r) => socket.received.length > seen && r?.request_type === 'transfer',
    );
    expect(response).toMatchObject({ type: 'error', data: { code: 'INVALID_REQUEST' } });
    expect(socket.socket.connected).toBe(true);
  });

  it('refuses binary attachments with INVALID_REQUEST', async () => {
    const socket = sockets[1];
    for (const [type, data] of [
      ['transfer', { to_user_id: target.userId, currency: 'USD', amount: Buffer.from('1.00') }],
      ['get_accounts', Buffer.alloc(1024)],
      ['mark_notifications_read', { ids: [Buffer.from([1])] }],
      ['channel', Buffer.from('settings')],
    ] as const) {
      const answer = (await ask(socket, type, [data])) as Envelope;
      expect(answer, `${type} with binary data`).toMatchObject({ type: 'error', data: { code: 'INVALID_REQUEST' } });
    }
    expect(socket.socket.connected).toBe(true);
  });
});

describe('the cases the issue names', () => {
  it('answers each with its documented code and field', async () => {
    const socket = sockets[2];
    const expectCode = async (type: string, data: unknown, code: string, field?: string) => {
      const answer = (await ask(socket, type, [data])) as Envelope;
      expect(answer, `${type} ${brief(data)}`).toMatchObject({ type: 'error', data: { code } });
      if (field) expect(answer.data?.field, `${type} ${brief(data)}`).toBe(field);
    };
    await expectCode('mark_notifications_read', { ids: [1e308] }, 'VALIDATION_FAILED', 'ids');
    await expectCode('mark_notifications_read', { ids: [1e20] }, 'VALIDATION_FAILED', 'ids');
    await expectCode('get_notifications', { offset: 1e20 }, 'VALIDATION_FAILED', 'offset');
    await expectCode(
      'verification_request',
      { method: 'otp_email', purpose: 'account_security', destination: null },
      'VALIDATION_FAILED',
      'destination',
    );
    await expectCode(
      'transfer',
      { to_user_id: target.userId, currency: 'USD', amount: deepArray(1300) },
      'INVALID_REQUEST',
    );
    for (const amount of ['0.999999999999999999999', '9007199254740993']) {
      const answer = await rawAsk(
        socket,
        (id) => `2/user,${id}["transfer",{"to_user_id":"${target.userId}","currency":"USD","amount":${amount}}]`,
      );
      expect(answer).toMatchObject({ type: 'error', data: { code: 'VALIDATION_FAILED', field: 'amount' } });
    }
    expect(socket.socket.connected).toBe(true);
  });
});

const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const HOSTILE_PATH_VALUES = [
  '-1',
  '99999999999999999999999',
  '%00',
  "'",
  '..%2F..',
  'a'.repeat(5000),
  '%E0%A4%A',
  '__proto__',
];
const HOSTILE_QUERIES = [
  'limit=1e400&offset=-1&x[y]=z&__proto__[a]=1',
  'limit=99999999999999999999999&offset=1e20',
  'limit[]=1&limit[]=2&offset=NaN&status=%00&kind=%00',
  'constructor[prototype][x]=1&to=a%00b',
  `to=${'a'.repeat(5000)}`,
  'to=%E0%A4%A&since=-0',
];
const HOSTILE_QUERY_VALUES = ['', '-1', '1e400', '0x10', '%00', 'a%00b', "'", 'NaN', '[]', 'x'.repeat(5000)];

interface HttpCase {
  method: string;
  path: string;
  token?: string;
  who: string;
  label: string;
  body?: unknown;
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

interface Route {
  method: string;
  path: string;
  bodyFields: string[];
  queryFields: string[];
}

function routesOf(doc: any): Route[] {
  const schemaFields = (schema: any): string[] => {
    const ref = typeof schema?.$ref === 'string' ? doc.components?.schemas?.[schema.$ref.split('/').pop()] : schema;
    return Object.keys(ref?.properties ?? {});
  };
  return Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([method]) => HTTP_METHODS.has(method))
      .map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        bodyFields: schemaFields(op.requestBody?.content?.['application/json']?.schema),
        queryFields: ((op.parameters ?? []) as { in: string; name: string }[])
          .filter((p) => p.in === 'query')
          .map((p) => p.name),
      })),
  );
}

/** Raw bodies that are not JSON, not what the route takes, or JSON the guard refuses. */
function rawBodies(): Pick<HttpCase, 'label' | 'raw' | 'headers'>[] {
  return [
    { label: 'not JSON', raw: 'not json' },
    { label: 'broken JSON', raw: '{"amount":' },
    { label: '1,300 nested arrays', raw: `${'['.repeat(1300)}${']'.repeat(1300)}` },
    { label: '40 nested objects', raw: `${'{"a":'.repeat(40)}1${'}'.repeat(40)}` },
    { label: 'inexact amount', raw: '{"amount":0.999999999999999999999}' },
    { label: 'amount 1e400', raw: '{"amount":1e400}' },
    { label: 'inexact user id', raw: '{"user_id":9007199254740993}' },
    { label: 'null', raw: 'null' },
    { label: 'a string', raw: '"text"' },
    { label: 'a number', raw: '1e20' },
    { label: 'an array', raw: '[{"email":"a@b.c"}]' },
    { label: 'NUL escape', raw: '{"email":"a\\u0000@example.com","message":"\\u0000","code":"\\u0000"}' },
    { label: 'own __proto__', raw: '{"__proto__":{"role":"admin"},"constructor":{"prototype":{"x":1}}}' },
    { label: 'invalid UTF-8', raw: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) },
    {
      label: 'form-encoded',
      raw: 'amount=1&currency=USD',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    },
    { label: 'text/plain', raw: '{}', headers: { 'content-type': 'text/plain' } },
    { label: 'unknown charset', raw: '{}', headers: { 'content-type': 'application/json; charset=latin9' } },
    { label: 'gzip that is not', raw: '{}', headers: { 'content-encoding': 'gzip' } },
    { label: 'unknown encoding', raw: '{}', headers: { 'content-encoding': 'br2' } },
    { label: '200 KB body', raw: `{"a":"${'x'.repeat(200_000)}"}` },
  ];
}

/**
 * A plausible body for the user routes that take one (never for an admin route), so that a hostile
 * value in one field gets past "is required" to the route's own checks. None can move money: the
 * sandbox partner's request names a reference no payment has, so its webhook finds nothing.
 */
function plausibleBody(path: string): (() => Record<string, unknown>) | undefined {
  const digits = () => String(randomInt(1_000_000, 9_999_999));
  if (path.endsWith('/auth/signup')) {
    return () => ({ email: uniqueEmail('hostile'), password: PASSWORD, phone: `+1555${digits()}`, name: 'Fuzz' });
  }
  if (path.endsWith('/auth/login')) {
    return () => ({ email: 'nobody-hostile@example.com', password: 'not the password' });
  }
  if (path.endsWith('/auth/refresh')) return () => ({ refresh_token: 'x'.repeat(43) });
  if (path.endsWith('/2fa/enable')) return () => ({ code: '123456' });
  if (/\/sandbox\/partners\/[^/]+\/requests$/.test(path)) {
    return () => ({ kind: 'deposit', request_ref: 'HOSTILE-REF-1', amount: '1.00', currency: 'USD' });
  }
  return undefined;
}

function httpCases(routes: Route[], tokens: { fuzz: string; admin: string; expendable: string }): HttpCase[] {
  const cases: HttpCase[] = [];
  for (const route of routes) {
    const isAdmin = /\/api\/v1\/(admin|ws)\//.test(route.path);
    // Logging out and rotating the channel end what the fuzz user's sockets depend on.
    const endsSession = /\/auth\/logout$|\/channel\/rotate$/.test(route.path);
    const who: [string, string][] = isAdmin
      ? [
          ['user', tokens.fuzz],
          ['admin', tokens.admin],
        ]
      : [[endsSession ? 'expendable user' : 'user', endsSession ? tokens.expendable : tokens.fuzz]];
    // An admin route is only ever sent what it must refuse: an id no user has, a body that lacks
    // required fields. A plausible path value elsewhere (the route's own checks are fuzzed).
    const fill = (value: (name: string) => string) =>
      route.path.replace(/\{(\w+)\}/g, (_m, name: string) => value(name));
    const basePath = fill((name) => (isAdmin ? '-1' : /partner/i.test(name) ? 'PTN-MPESA' : '1'));
    const hasParams = basePath !== route.path;
    const add = (c: Omit<HttpCase, 'method' | 'who' | 'token'>) => {
      for (const [name, token] of who) cases.push({ method: route.method, who: name, token, ...c });
    };
    // The body of an admin route is read only for an admin: a user is refused (403) whatever it is.
    const [mainWho, mainToken] = who[who.length - 1];
    const addMain = (c: Omit<HttpCase, 'method' | 'who' | 'token'>) =>
      cases.push({ method: route.method, who: mainWho, token: mainToken, ...c });
    cases.push({
      method: route.method,
      path: basePath,
      who: 'anonymous',
      label: 'no token',
      body: BODY_METHODS.has(route.method) ? {} : undefined,
    });
    cases.push({ method: route.method, path: basePath, who: 'bad token', token: 'x.y.z', label: 'bad token' });
    for (const query of HOSTILE_QUERIES) add({ path: `${basePath}?${query}`, label: `query ${query.slice(0, 60)}` });
    for (const field of route.queryFields) {
      for (const value of HOSTILE_QUERY_VALUES) {
        addMain({ path: `${basePath}?${field}=${value}`, label: `query ${field}=${value.slice(0, 20)}` });
      }
    }
    if (hasParams) {
      for (const value of HOSTILE_PATH_VALUES) add({ path: fill(() => value), label: `path ${value.slice(0, 30)}` });
    }
    if (!BODY_METHODS.has(route.method)) continue;
    add({ path: basePath, label: 'body {}', body: {} });
    for (const { label, value } of nonObjects()) addMain({ path: basePath, label: `body ${label}`, body: value });
    // A route without a request body schema ignores its body: a sample of values shows it parses.
    const fields = [...new Set([...route.bodyFields, 'amount', 'currency', 'user_id', ...PROTOTYPE_KEYS])];
    const values = route.bodyFields.length > 0 ? hostileValues() : hostileValues().filter((_, i) => i % 4 === 0);
    for (const field of fields) {
      for (const { label, value } of values) {
        addMain({ path: basePath, label: `body ${field}=${label}`, body: { [field]: value } });
      }
    }
    const base = isAdmin ? undefined : plausibleBody(route.path);
    if (base) {
      addMain({ path: basePath, label: 'plausible body', body: base() });
      // Its own fields only: an unknown one is refused before the route runs (tried above).
      for (const field of new Set([...Object.keys(base()), ...route.bodyFields])) {
        for (const { label, value } of hostileValues()) {
          addMain({ path: basePath, label: `plausible body, ${field}=${label}`, body: { ...base(), [field]: value } });
        }
      }
    }
    for (const raw of rawBodies()) addMain({ path: basePath, ...raw, label: `raw ${raw.label}` });
  }
  return cases;
}

function httpProblem(c: HttpCase, response: HttpResult): string | undefined {
  if (response.status >= 500) return `status ${response.status}`;
  if (c.who === 'admin' && c.method !== 'GET' && response.status < 400) return 'an admin action succeeded';
  if (response.status < 400) return undefined;
  const body = response.body;
  if (typeof body !== 'object' || body === null) return 'error body is not JSON';
  if (body.code === 'INTERNAL') return 'INTERNAL';
  const shaped =
    body.status_code === response.status &&
    typeof body.message === 'string' &&
    typeof body.code === 'string' &&
    typeof body.trace_id === 'string' &&
    'data' in body &&
    (body.data === null || typeof body.data === 'object');
  return shaped ? undefined : 'error body without {status_code, message, code, trace_id, data}';
}

describe('REST', () => {
  it('answers hostile requests on every route without 500 or INTERNAL, in the error shape', async () => {
    const doc = (await api.get('/api/docs/json')).body;
    const routes = routesOf(doc);
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining(['POST /api/v1/auth/signup', 'POST /api/v1/admin/adjustments', 'GET /api/v1/user']),
    );
    const cases = httpCases(routes, { fuzz: fuzz.accessToken, admin: adminToken, expendable: expendable.accessToken });
    const findings: Finding[] = [];
    const statuses = new Map<number, number>();
    const started = Date.now();
    await runPool(cases, IN_FLIGHT, async (c) => {
      const what = `${c.method} ${c.path.slice(0, 100)} (${c.who}) [${c.label}]${c.body !== undefined ? ` ${brief(c.body, 100)}` : ''}`;
      let response: HttpResult;
      try {
        response = await request(app.url, c.method, c.path, c.body, { token: c.token, raw: c.raw, headers: c.headers });
      } catch (error) {
        findings.push({ what: 'no response', request: what, answer: String((error as Error).cause ?? error) });
        return;
      }
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const problem = httpProblem(c, response);
      if (problem) {
        findings.push({ what: problem, request: what, answer: `${response.status} ${brief(response.body, 300)}` });
      }
    });
    console.log(
      `REST fuzz: ${cases.length} requests over ${routes.length} routes in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `statuses: ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    expect(findings, report('HTTP requests answered wrongly', findings)).toEqual([]);
  }, 120_000);
});

describe('afterwards', () => {
  it('is still up, logged no unhandled error, and the ledger is untouched and balanced', async () => {
    const exited = await Promise.race([
      app.exited.then((code) => `exited with ${code}`),
      new Promise<string>((resolve) => setTimeout(() => resolve('running'), 100)),
    ]);
    expect(exited).toBe('running');
    expect((await api.get('/api/v1/health')).status).toBe(200);
    expect(((await ask(sockets[3], 'get_accounts', [{}])) as Envelope).type).toBe('success');

    const errors = app
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as { level?: string | number; msg?: string; err?: { stack?: string } }];
        } catch {
          return [];
        }
      })
      .filter((entry) => ['error', 'fatal', 50, 60].includes(entry.level ?? ''));
    const lines = errors.map((e) => `${brief(e.msg, 120)}: ${brief(e, 1500)}`);
    expect(errors, `error lines in the log:\n${lines.slice(0, 20).join('\n')}`).toEqual([]);

    expect(await ledgerOf([fuzz.userId, target.userId, expendable.userId])).toEqual(ledgerBefore);
    await expectLedgerBalanced();
  });
});
