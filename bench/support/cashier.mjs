// The service under measurement: the API process (ROLE=api, started from the compiled tree like in
// production), a publisher inside the bench process (the compiled CoreModule, so publishNow() runs
// the real outbox transaction and bus publish), and the REST calls that make users.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startNodeProcess } from './children.mjs';
import { mapLimit } from './wait.mjs';

const START_TIMEOUT_MS = 60_000;
const LISTENING = /"msg":"listening/;
const NOISY_LEVELS = new Set(['warn', 'error', 'fatal']);

/** The environment of the service; the publisher parses the same one. */
function serviceEnv(run) {
  return {
    NODE_ENV: 'test',
    ROLE: 'api',
    HOST: '127.0.0.1',
    PORT: '0',
    // info, not warn: the port chosen by PORT=0 is only announced on the info "listening" line.
    LOG_LEVEL: 'info',
    DATABASE_URL: run.databaseUrl,
    REDIS_URL: run.redisUrl,
    REDIS_PREFIX: run.redisPrefix,
    JWT_SECRET: run.jwtSecret,
    CONFIG_DIR: run.configDir,
  };
}

/**
 * Starts `node <dist>/src/main.js` and resolves once it listens (migrations have run by then).
 * Lines logged at warn or above are counted and echoed to stderr: they are worth seeing. `env`
 * adds to the service's environment, `nodeArgs` to its node options (after BENCH_CASHIER_NODE_ARGS).
 */
export async function startCashier(run, { log, env = {}, nodeArgs: extraArgs = [] }) {
  const warnings = { count: 0, last: [] };
  const onLine = (line) => {
    const level = /"level":"(\w+)"/.exec(line)?.[1];
    if (level && !NOISY_LEVELS.has(level)) return;
    warnings.count += 1;
    if (warnings.last.length < 20) warnings.last.push(line);
    log(`[cashier] ${line}`);
  };
  // The V8 flags of `npm start`, unless BENCH_CASHIER_NODE_FLAGS replaces them ('' for none); then
  // extra arguments, e.g. BENCH_CASHIER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
  const flags = splitArgs(process.env.BENCH_CASHIER_NODE_FLAGS ?? startFlags(run.root));
  const nodeArgs = [...flags, ...splitArgs(process.env.BENCH_CASHIER_NODE_ARGS ?? ''), ...extraArgs];
  const proc = startNodeProcess('cashier', [...nodeArgs, join(run.dist, 'src/main.js')], {
    cwd: run.root,
    env: { ...process.env, ...serviceEnv(run), ...env },
    onLine,
  });
  const port = await proc.waitForLine(
    (line) => (LISTENING.test(line) ? JSON.parse(line).port : undefined),
    START_TIMEOUT_MS,
    'starting',
  );
  return { proc, url: `http://127.0.0.1:${port}`, warnings, nodeArgs };
}

const splitArgs = (text) => text.split(' ').filter(Boolean);

/** The node flags of the `start` script (`node <flags> dist/src/main.js`): the service runs as deployed. */
function startFlags(root) {
  const start = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start;
  const flags = /^node((?: --\S+)*) dist\/src\/main\.js$/.exec(start)?.[1];
  if (flags === undefined) throw new Error(`start script is not "node [flags] dist/src/main.js": ${start}`);
  return flags;
}

/**
 * A Nest application context of the compiled CoreModule in this process. Its RealtimePublisher
 * publishes as any service code does: outbox transaction in PostgreSQL, then the Redis bus.
 */
export async function createPublisher(run) {
  // Resolve Nest from the compiled tree itself, so decorators and DI see one copy of each package.
  const requireDist = createRequire(join(run.dist, 'src/main.js'));
  const fromDist = (path) => requireDist(join(run.dist, path));
  requireDist('reflect-metadata');
  const { NestFactory } = requireDist('@nestjs/core');
  const { CoreModule } = fromDist('src/core/core.module.js');
  const { parseEnv } = fromDist('src/core/config/env.schema.js');
  const { createAppConfig } = fromDist('src/core/config/app-config.js');
  const { loadBusinessConfig } = fromDist('src/core/config/business-config.js');
  const { createRootLogger } = fromDist('src/core/logging/logger.js');
  const { RealtimePublisher } = fromDist('src/core/realtime/realtime.publisher.js');

  const parsed = parseEnv(serviceEnv(run));
  if (!parsed.ok) throw new Error(parsed.error);
  const config = createAppConfig({
    env: parsed.env,
    databaseUrl: run.databaseUrl,
    redisUrl: run.redisUrl,
    jwtSecret: run.jwtSecret,
    business: loadBusinessConfig(run.configDir),
  });
  const context = await NestFactory.createApplicationContext(CoreModule.forRoot(config, createRootLogger('warn')), {
    logger: ['error', 'warn'],
  });
  const publisher = context.get(RealtimePublisher);
  return {
    publish: (channel, event, payload) => publisher.publishNow(channel, event, payload),
    /** What the service calls for an announcement on a public market channel (trade, ticker, ...). */
    publishPublic: (channel, event, payload) => publisher.publishPublic(channel, event, payload),
    close: () => context.close(),
  };
}

/**
 * Signs up and logs in `count` users (`<prefix>.<i>@bench.example.com`), a few at a time: argon2
 * hashing is deliberately slow, and 4 at once keep both cores busy. `log`, if given, hears every 250.
 */
export function createUsers(url, prefix, count, { password, log } = {}) {
  const emails = Array.from({ length: count }, (_, i) => `${prefix}.${i}@bench.example.com`);
  let made = 0;
  return mapLimit(emails, 4, async (email) => {
    const user = await createUser(url, email, password);
    if (++made % 250 === 0) log?.(`  ${made} users`);
    return user;
  });
}

/** Credits every user `amount` of `currency` (major units, a string) by an admin adjustment. */
export async function fundUsers(url, adminToken, users, currency, amount) {
  await mapLimit(users, 16, (user) =>
    postJson(
      url,
      '/api/v1/admin/adjustments',
      { user_id: user.id, currency, amount, direction: 'credit', reason: 'bench funding' },
      201,
      adminToken,
    ),
  );
}

/** Signs a user up and logs it in once: its id, channel and access token. */
export async function createUser(url, email, password) {
  const { user } = await postJson(url, '/api/v1/auth/signup', { email, password }, 201);
  return { id: user.id, channel: user.channel, token: await logIn(url, email, password) };
}

/** An access token for an existing user. */
export async function logIn(url, email, password) {
  const { access_token: token } = await postJson(url, '/api/v1/auth/login', { email, password }, 200);
  return token;
}

/** POSTs JSON (with a bearer `token` if given) and returns the parsed reply, which must have status `expected`. */
export async function postJson(url, path, body, expected, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await globalThis.fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await response.text();
  if (response.status !== expected) throw new Error(`POST ${path}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** GETs JSON with a bearer `token`; the reply must be 200. */
export async function getJson(url, path, token) {
  const response = await globalThis.fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}
