// Realtime benchmark: the service (publish → outbox → Redis bus → socket) against a bare
// socket.io server with the Redis adapter, in one run, on the same machine, PostgreSQL and Redis.
//
//   CASHIER_DIST=.bench-dist node bench/realtime/run.mjs
//
// 1. publish→receipt latency, 1 subscriber       (one event at a time; bare: room broadcast)
//    + the outbox transaction alone, with pg directly, as context
// 2. publish→receipt latency, 1,000 subscribers  (every socket must receive before the next)
//    (in 1 and 2 cashier and bare take turns in blocks, so background load hits both alike)
// 3. heap per idle authenticated socket at 5,000  (server heap after forced GC, before/after)
//
// Prints a markdown table and writes bench/results/realtime-<timestamp>.json and
// realtime-latest.json. Exits 0 when it measured (a missed target is a result, not an error),
// non-zero when it could not. See bench/README.md.
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBareEmitter, startBareServer } from '../support/bare.mjs';
import { compareLatency, idleHeap } from '../support/measure.mjs';
import { log } from '../support/lifecycle.mjs';
import { measureRawOutboxWrite } from '../support/outbox-sql.mjs';
import { contextRow, targetRow } from '../support/report.mjs';
import { closeAll, openMany, openSocket, request } from '../support/sockets.mjs';
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
 * latency, not throughput. Latency is taken per (event, socket) at receipt, against the stamp in
 * the payload (publisher and clients share this process's clock).
 */
function latencyPath(sockets, publish) {
  const latencies = [];
  const publishCalls = [];
  let round;
  let nextId = 0;
  let unexpected = 0;
  const onFrame = (frame) => {
    const now = process.hrtime.bigint();
    if (frame?.payload?.id !== round?.id) {
      unexpected += 1;
      return;
    }
    round.samples?.push(Number(now - BigInt(frame.payload.t)) / 1e6);
    if (--round.pending === 0) round.done();
  };
  for (const socket of sockets) socket.on('stream', onFrame);

  async function once(measured) {
    const id = nextId++;
    const received = new Promise((done) => {
      round = { id, pending: sockets.length, samples: measured ? latencies : undefined, done };
    });
    const stamp = process.hrtime.bigint();
    const published = Promise.resolve(publish(payloadOf(id, stamp))).then(() => {
      if (measured) publishCalls.push(msSince(stamp));
    });
    const what = `event ${id} reaching ${sockets.length} sockets`;
    await withTimeout(Promise.all([published, received]), ROUND_TIMEOUT_MS, what);
  }

  return {
    async rounds(count, measured) {
      for (let i = 0; i < count; i++) await once(measured);
    },
    result() {
      for (const socket of sockets) socket.off('stream', onFrame);
      return { latency: summarize(latencies), publishCall: summarize(publishCalls), unexpectedFrames: unexpected };
    },
  };
}

/** A frame as the service sends it, for the bare publisher. */
function bareFramer(room) {
  let seq = 0;
  return (payload) => ({ event: 'bench', channel: room, seq: ++seq, timestamp: new Date().toISOString(), payload });
}

/** A room name shaped like a user channel id (32 hex), so frames have the same size. */
const bareRoom = () => randomBytes(16).toString('hex');

/** A socket on the bare server that joined `rooms`. */
async function bareMember(url, rooms) {
  const socket = await openSocket(url);
  await request(socket, 'join', rooms).catch((error) => {
    socket.close();
    throw error;
  });
  return socket;
}

/** The bare path to `sockets`: frames shaped like the service's, published through Redis. */
function barePath(env, room, sockets) {
  const frame = bareFramer(room);
  return latencyPath(sockets, (payload) => env.emitter.publish(room, frame(payload)));
}

const cashierPath = (env, channel, sockets) =>
  latencyPath(sockets, (payload) => env.publisher.publish(channel, 'bench', payload));

async function oneSubscriber(env) {
  const params = PARAMS.oneSubscriber;
  const { user } = env;
  log(`1 subscriber: ${params.rounds} events after ${params.warmup} warm-up, cashier and bare alternating`);
  const sockets = [];
  try {
    sockets.push(await openSocket(env.cashier.url, { auth: { token: user.token }, readyEvent: 'connected' }));
    const room = bareRoom();
    sockets.push(await bareMember(env.bare.url, [room]));
    const paths = [cashierPath(env, user.channel, [sockets[0]]), barePath(env, room, [sockets[1]])];
    const { cashier, bare } = await compareLatency(...paths, params);

    log('1 subscriber: the outbox transaction alone, with pg');
    const rawOutbox = await measureRawOutboxWrite(env.run.databaseUrl, bareRoom(), payloadOf, params);
    return { cashier, bare, rawOutbox };
  } finally {
    closeAll(sockets);
  }
}

async function fanOut(env) {
  const { subscribers: n, ...params } = PARAMS.fanOut;
  const { channel } = env.user;
  const room = bareRoom();
  log(`${n} subscribers: opening ${n} receive-only sockets on the user's channel, and ${n} bare`);
  const receivers = await openMany(
    env.cashier.url,
    n,
    () => ({ readyEvent: 'connected' }),
    (socket) => request(socket, 'channel', channel),
  );
  try {
    const members = await openMany(
      env.bare.url,
      n,
      () => ({}),
      (socket) => request(socket, 'join', [room]),
    );
    try {
      log(`${n} subscribers: ${params.rounds} events after ${params.warmup} warm-up, cashier and bare alternating`);
      const paths = [cashierPath(env, channel, receivers.sockets), barePath(env, room, members.sockets)];
      return await compareLatency(...paths, params);
    } finally {
      closeAll(members.sockets);
    }
  } finally {
    closeAll(receivers.sockets);
  }
}

async function idleSockets(env) {
  const { users, socketsPerUser } = PARAMS.idle;
  const total = users * socketsPerUser;
  const tokens = env.idleUsers.map((u) => u.token);
  log(`${total} idle sockets: cashier, ${socketsPerUser} per user token`);
  const cashier = await idleHeap(env.cashier.proc, closeAll, () =>
    openMany(env.cashier.url, total, (i) => ({ auth: { token: tokens[i % users] }, readyEvent: 'connected' })),
  );

  // Like the service's user channel (shared by a user's sockets) and settings (shared by all).
  log(`${total} idle sockets: bare socket.io, 2 rooms each`);
  const rooms = Array.from({ length: users }, bareRoom);
  const bare = await idleHeap(env.bare.proc, closeAll, () =>
    openMany(
      env.bare.url,
      total,
      () => ({}),
      (socket, i) => request(socket, 'join', [rooms[i % users], 'settings']),
    ),
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
    contextRow('1 subscriber: latency p90', 'ms', one.cashier.latency.p90, one.bare.latency.p90),
    targetRow('1 subscriber: latency p99', 'ms', one.cashier.latency.p99, one.bare.latency.p99, 2),
    contextRow('1 subscriber: latency max', 'ms', one.cashier.latency.max, one.bare.latency.max),
    contextRow('outbox write p50: publishNow() vs raw pg txn', 'ms', one.cashier.publishCall.p50, one.rawOutbox.p50),
    contextRow('outbox write p99: publishNow() vs raw pg txn', 'ms', one.cashier.publishCall.p99, one.rawOutbox.p99),
    contextRow('1,000 subscribers: latency p50', 'ms', fan.cashier.latency.p50, fan.bare.latency.p50),
    targetRow('1,000 subscribers: latency p99', 'ms', fan.cashier.latency.p99, fan.bare.latency.p99, 2),
    contextRow('1,000 subscribers: latency max', 'ms', fan.cashier.latency.max, fan.bare.latency.max),
    targetRow('5,000 idle sockets: heap per socket', 'bytes', idle.cashier.heapPerSocket, idle.bare.heapPerSocket, 1.2),
    contextRow(
      '5,000 idle sockets: heap retained per socket after close',
      'bytes',
      idle.cashier.retainedPerClosedSocket,
      idle.bare.retainedPerClosedSocket,
    ),
    contextRow(
      '5,000 idle sockets: connect rate',
      'sockets/s',
      idle.cashier.connectsPerSecond,
      idle.bare.connectsPerSecond,
    ),
  ];
}

await runLatencyBench({
  name: 'realtime',
  root: ROOT,
  minOpenFiles: MIN_OPEN_FILES,
  password: PASSWORD,
  idleUsers: PARAMS.idle.users,
  startBare: (run) => startBareServer(run, { log }),
  createEmitter: createBareEmitter,
  scenarios: { oneSubscriber, fanOut, idleSockets },
  rows: tableRows,
  params: PARAMS,
});
