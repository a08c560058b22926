// Preloaded into the service by bench/ledger/breakdown.mjs (node --require <this file>; CommonJS,
// like heap-probe.js): counts and times, inside the process, what one transfer costs in I/O and on
// the event loop. It wraps
// - pg's Client.prototype.query: every statement, by its text (whitespace folded), from the call to
//   its result; and Pool.prototype.connect: every checkout, until the client is handed over;
// - ioredis: every command sent on its own (one round trip each) and every pipeline (one round trip
//   for all its commands), by command name, until the reply;
// and watches the event loop (utilization, and how late a 10 ms timer runs).
// IPC: 'io-probe:reset' starts over; 'io-probe:read' answers {ioProbe: {...}} with what it saw since;
// {ioProbe: 'profile-start'} / {ioProbe: 'profile-stop', path} run V8's CPU profiler in between
// (inspector, this thread) and write the profile to `path`.
/* eslint-disable @typescript-eslint/no-require-imports -- a preload runs before the app, as CommonJS */
const { writeFileSync } = require('node:fs');
const { Session } = require('node:inspector');
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');
const pg = require('pg');
const { Redis } = require('ioredis');
const Pipeline = require('ioredis/built/Pipeline').default;

/** The delay histogram records the time between its timer's runs: this much of it is the timer's period. */
const DELAY_RESOLUTION_MS = 10;

/** name → { count, ms } */
let statements;
let checkouts;
let redis;
let elu;
let loopDelay;
let startedAt;

function reset() {
  statements = new Map();
  checkouts = { count: 0, ms: 0 };
  redis = new Map();
  elu = performance.eventLoopUtilization();
  loopDelay?.disable();
  loopDelay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
  loopDelay.enable();
  startedAt = performance.now();
}
reset();

function add(map, key, ms) {
  const entry = map.get(key);
  if (entry) {
    entry.count += 1;
    entry.ms += ms;
  } else {
    map.set(key, { count: 1, ms });
  }
}

/** Times `fn`'s outcome: its callback (last argument, if a function) or its promise. */
function timed(original, self, args, done) {
  const start = performance.now();
  const last = args.length - 1;
  if (last >= 0 && typeof args[last] === 'function') {
    const callback = args[last];
    args[last] = function (...results) {
      done(performance.now() - start);
      return callback.apply(this, results);
    };
    return original.apply(self, args);
  }
  const result = original.apply(self, args);
  if (result && typeof result.then === 'function') {
    const settle = () => done(performance.now() - start);
    result.then(settle, settle);
  }
  return result;
}

const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, ...rest) {
  const text = typeof config === 'string' ? config : config?.text;
  // Cursors and streams (a `submit` method) are not round trips of their own.
  if (typeof text !== 'string' || typeof config?.submit === 'function') return query.call(this, config, ...rest);
  const key = text.replace(/\s+/g, ' ').trim();
  return timed(query, this, [config, ...rest], (ms) => add(statements, key, ms));
};

const connect = pg.Pool.prototype.connect;
pg.Pool.prototype.connect = function (...args) {
  return timed(connect, this, args, (ms) => {
    checkouts.count += 1;
    checkouts.ms += ms;
  });
};

const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (command, stream, ...rest) {
  // A pipeline sends its commands with a stream of its own: counted once, by exec() below.
  if (stream || !command?.promise) return sendCommand.call(this, command, stream, ...rest);
  const start = performance.now();
  const settle = () => add(redis, command.name, performance.now() - start);
  command.promise.then(settle, settle);
  return sendCommand.call(this, command, stream, ...rest);
};

const exec = Pipeline.prototype.exec;
Pipeline.prototype.exec = function (...args) {
  const names = [...new Set(this._queue.map((c) => c.name))].join(',');
  return timed(exec, this, args, (ms) => add(redis, `pipeline(${names})`, ms));
};

const delay = (ns) => Math.max(0, ns / 1e6 - DELAY_RESOLUTION_MS);
const plain = (map) => Object.fromEntries([...map].map(([key, v]) => [key, { ...v }]));

function read() {
  const loop = performance.eventLoopUtilization(elu);
  return {
    seconds: (performance.now() - startedAt) / 1000,
    statements: plain(statements),
    checkouts: { ...checkouts },
    redis: plain(redis),
    eventLoop: {
      utilization: loop.utilization,
      activeMs: loop.active,
      delayMs: {
        p50: delay(loopDelay.percentile(50)),
        p99: delay(loopDelay.percentile(99)),
        max: delay(loopDelay.max),
      },
    },
  };
}

let session;

function profile(message) {
  if (message.ioProbe === 'profile-start') {
    session = new Session();
    session.connect();
    session.post('Profiler.enable', () =>
      session.post('Profiler.start', () => process.send({ ioProbe: { profiling: true } })),
    );
  } else {
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(message.path, JSON.stringify(result.profile));
      session.disconnect();
      process.send({ ioProbe: { profile: error ? String(error) : message.path } });
    });
  }
}

process.on('message', (message) => {
  if (message === 'io-probe:reset') {
    reset();
    process.send({ ioProbe: { reset: true } });
  } else if (message === 'io-probe:read') {
    process.send({ ioProbe: read() });
  } else if (typeof message?.ioProbe === 'string') {
    profile(message);
  }
});
process.channel?.unref();
