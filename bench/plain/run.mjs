// Plain-WebSocket benchmark (issue 17): the service's `/cashier/svc/ws` (publish → outbox → Redis
// bus → channel delivery → the plain connection's `ws` → a JSON frame) against a bare `ws`
// server with an ioredis subscriber, in one run, on the same machine, PostgreSQL and Redis.
//
//   CASHIER_DIST=.bench-dist node bench/plain/run.mjs
//
// 1. publish→receipt latency, 1 subscriber        (one event at a time)
// 2. publish→receipt latency, 1,000 subscribers   (every socket must receive before the next)
//    (in 1 and 2 cashier and bare take turns in blocks, so background load hits both alike)
// 3. heap per idle authenticated connection at 5,000 (server heap after forced GC, before/after)
//
// Prints a markdown table and writes bench/results/plain-<timestamp>.json and plain-latest.json.
// Exits 0 when it measured (a missed target is a result, not an error), non-zero when it could
// not. See bench/README.md.
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBareWsEmitter, startBareWsServer } from '../support/bare-ws.mjs';
import { cpuDelta, cpuSnapshot } from '../support/cpu.mjs';
import { compareLatency, idleHeap } from '../support/measure.mjs';
import { log } from '../support/lifecycle.mjs';
import { closeAllPlain, frameId, openManyPlain, openPlainSocket } from '../support/plain.mjs';
import { contextRow, targetRow } from '../support/report.mjs';
import { msSince, summarize } from '../support/stats.mjs';
import { runLatencyBench } from '../support/latency-bench.mjs';
import { withTimeout } from '../support/wait.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PARAMS = {
  oneSubscriber: { rounds: 2000, warmup: 200 },
  fanOut: { subscribers: 1000, rounds: 300, warmup: 30 },
  idle: { users: 50, socketsPerUser: 100 },
  /** Padding that brings the event payload to about 256 bytes of JSON. */
  paddingChars: 200,
};
const ENDPOINT = '/cashier/svc/ws';
/** The service's frame that says a connection is set up and joined to the user's channel. */
const CASHIER_READY = '{"type":"connected"';
const BARE_READY = '{"joined"';
/** Client ends of 5,000 sockets live in this process; the servers hold the other ends. */
const MIN_OPEN_FILES = 6000;
const ROUND_TIMEOUT_MS = 10_000;
const PASSWORD = 'bench-password-1234';

// --- set-up ---

// --- measurements ---

const PADDING = 'x'.repeat(PARAMS.paddingChars);

/** The payload of event `id`: its publish time on this process's clock, and padding. */
const payloadOf = (id, stamp) => ({ id, t: stamp.toString(), pad: PADDING });

/**
 * One publish→receipt path: `publish(payload)` and the sockets that must all receive it. Events
 * go one at a time, each only after every socket received the previous one, so this measures
 * latency, not throughput. Latency is taken per (event, socket) at receipt, against the stamp of
 * the round, which the payload also carries (publisher and clients share this process's clock);
 * a frame is told by the payload id at its start, unparsed (plain.mjs). The CPU time of the
 * `server` process (a pid), of this process, PostgreSQL and Redis is added up over the measured
 * rounds.
 */
function latencyPath(sockets, publish, server) {
  const latencies = [];
  const publishCalls = [];
  const cpu = {};
  let measuredRounds = 0;
  let round;
  let nextId = 0;
  let unexpected = 0;
  const onFrame = (buf) => {
    const now = process.hrtime.bigint();
    if (round === undefined || frameId(buf) !== round.id) {
      unexpected += 1;
      return;
    }
    round.samples?.push(Number(now - round.stamp) / 1e6);
    if (--round.pending === 0) round.done();
  };
  for (const socket of sockets) socket.onFrame = onFrame;

  async function once(measured) {
    const id = nextId++;
    const stamp = process.hrtime.bigint();
    const received = new Promise((done) => {
      round = { id, stamp, pending: sockets.length, samples: measured ? latencies : undefined, done };
    });
    const published = Promise.resolve(publish(payloadOf(id, stamp))).then(() => {
      if (measured) publishCalls.push(msSince(stamp));
    });
    const what = `event ${id} reaching ${sockets.length} sockets`;
    await withTimeout(Promise.all([published, received]), ROUND_TIMEOUT_MS, what);
  }

  return {
    async rounds(count, measured) {
      const before = measured ? cpuSnapshot({ server, bench: 'self' }) : undefined;
      for (let i = 0; i < count; i++) await once(measured);
      if (!before) return;
      measuredRounds += count;
      for (const [name, ms] of Object.entries(cpuDelta(before, cpuSnapshot({ server, bench: 'self' })))) {
        cpu[name] = (cpu[name] ?? 0) + ms;
      }
    },
    result() {
      for (const socket of sockets) socket.onFrame = undefined;
      const cpuMsPerEvent = Object.fromEntries(Object.entries(cpu).map(([name, ms]) => [name, ms / measuredRounds]));
      return {
        latency: summarize(latencies),
        publishCall: summarize(publishCalls),
        cpuMsPerEvent,
        unexpectedFrames: unexpected,
      };
    },
  };
}

/** A frame as the service's plain endpoint sends it (`{type, data, channel, seq, timestamp}`), as text. */
function bareFramer(room) {
  let seq = 0;
  return (payload) =>
    JSON.stringify({ type: 'bench', data: payload, channel: room, seq: ++seq, timestamp: new Date().toISOString() });
}

/** A room name shaped like a user channel id (32 hex), so frames have the same size. */
const bareRoom = () => randomBytes(16).toString('hex');

/** The options of a connection to the service's endpoint, authenticated with `token`. */
const cashierSocket = (env, token) => ({
  url: `${env.cashier.url.replace(/^http/, 'ws')}${ENDPOINT}`,
  headers: { authorization: `Bearer ${token}` },
  ready: CASHIER_READY,
});

/** The options of a connection to the bare server that joins `rooms`. */
const bareSocket = (env, rooms) => ({ url: env.bare.url, ready: BARE_READY, hello: JSON.stringify({ join: rooms }) });

/** The bare path to `sockets`: frames shaped like the service's, published through Redis. */
function barePath(env, room, sockets) {
  const frame = bareFramer(room);
  return latencyPath(sockets, (payload) => env.emitter.publish(room, frame(payload)), env.bare.proc.pid);
}

const cashierPath = (env, channel, sockets) =>
  latencyPath(sockets, (payload) => env.publisher.publish(channel, 'bench', payload), env.cashier.proc.pid);

async function oneSubscriber(env) {
  const params = PARAMS.oneSubscriber;
  const { user } = env;
  log(`1 subscriber: ${params.rounds} events after ${params.warmup} warm-up, cashier and bare alternating`);
  const sockets = [];
  try {
    sockets.push(await openPlainSocket(cashierSocket(env, user.token)));
    const room = bareRoom();
    sockets.push(await openPlainSocket(bareSocket(env, [room])));
    const paths = [cashierPath(env, user.channel, [sockets[0]]), barePath(env, room, [sockets[1]])];
    return await compareLatency(...paths, params);
  } finally {
    closeAllPlain(sockets);
  }
}

async function fanOut(env) {
  const { subscribers: n, ...params } = PARAMS.fanOut;
  const { user } = env;
  const room = bareRoom();
  // One channel means one user: all 1,000 connections authenticate with the same token.
  log(`${n} subscribers: opening ${n} connections with one user's token, and ${n} bare in one room`);
  const receivers = await openManyPlain(n, () => cashierSocket(env, user.token));
  try {
    const members = await openManyPlain(n, () => bareSocket(env, [room]));
    try {
      log(`${n} subscribers: ${params.rounds} events after ${params.warmup} warm-up, cashier and bare alternating`);
      const paths = [cashierPath(env, user.channel, receivers.sockets), barePath(env, room, members.sockets)];
      return await compareLatency(...paths, params);
    } finally {
      closeAllPlain(members.sockets);
    }
  } finally {
    closeAllPlain(receivers.sockets);
  }
}

async function idleSockets(env) {
  const { users, socketsPerUser } = PARAMS.idle;
  const total = users * socketsPerUser;
  const tokens = env.idleUsers.map((u) => u.token);
  log(`${total} idle connections: cashier, ${socketsPerUser} per user token`);
  const cashier = await idleHeap(env.cashier.proc, closeAllPlain, () =>
    openManyPlain(total, (i) => cashierSocket(env, tokens[i % users])),
  );

  // Like the service's user channel (shared by a user's connections) and settings (shared by all).
  log(`${total} idle connections: bare ws, 2 rooms each`);
  const rooms = Array.from({ length: users }, bareRoom);
  const bare = await idleHeap(env.bare.proc, closeAllPlain, () =>
    openManyPlain(total, (i) => bareSocket(env, [rooms[i % users], 'settings'])),
  );
  return { cashier, bare };
}

// --- the run ---

function tableRows(m) {
  const one = m.oneSubscriber;
  const fan = m.fanOut;
  const idle = m.idleSockets;
  return [
    contextRow('1 subscriber: latency p50', 'ms', one.cashier.latency.p50, one.bare.latency.p50),
    contextRow('1 subscriber: latency p99', 'ms', one.cashier.latency.p99, one.bare.latency.p99),
    contextRow('1 subscriber: publish call p50', 'ms', one.cashier.publishCall.p50, one.bare.publishCall.p50),
    contextRow('1,000 subscribers: latency p50', 'ms', fan.cashier.latency.p50, fan.bare.latency.p50),
    targetRow('1,000 subscribers: latency p99', 'ms', fan.cashier.latency.p99, fan.bare.latency.p99, 1.5),
    contextRow('1,000 subscribers: latency max', 'ms', fan.cashier.latency.max, fan.bare.latency.max),
    contextRow(
      '1,000 subscribers: server CPU per event',
      'ms',
      fan.cashier.cpuMsPerEvent.server,
      fan.bare.cpuMsPerEvent.server,
    ),
    targetRow(
      '5,000 idle connections: heap per connection',
      'bytes',
      idle.cashier.heapPerSocket,
      idle.bare.heapPerSocket,
      1.2,
    ),
    contextRow(
      '5,000 idle connections: heap retained per connection after close',
      'bytes',
      idle.cashier.retainedPerClosedSocket,
      idle.bare.retainedPerClosedSocket,
    ),
    contextRow(
      '5,000 idle connections: connect rate',
      'connections/s',
      idle.cashier.connectsPerSecond,
      idle.bare.connectsPerSecond,
    ),
  ];
}

await runLatencyBench({
  name: 'plain',
  root: ROOT,
  minOpenFiles: MIN_OPEN_FILES,
  password: PASSWORD,
  idleUsers: PARAMS.idle.users,
  startBare: (run) => startBareWsServer(run, { log }),
  createEmitter: createBareWsEmitter,
  scenarios: { oneSubscriber, fanOut, idleSockets },
  rows: tableRows,
  params: { ...PARAMS, endpoint: ENDPOINT },
});
