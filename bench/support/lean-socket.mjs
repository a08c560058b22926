// A lean socket.io client for the load generator. The bench process runs on the same 2 cores as the
// service and PostgreSQL, so every ms of CPU it spends is taken from what it measures. This client
// speaks the real protocol (engine.io 4, socket.io 5, text frames) over real websockets (`ws`),
// answers the server's pings, and looks at the other frames by their first bytes only: it parses
// the acknowledgements (and a connect error), tells the readiness event by its prefix, and drops
// every other event unread. One timer, shared by all sockets, times the acknowledgements out.
//
// Frames (engine.io type, then socket.io type, then namespace): `0{sid,...}` open, `2` ping (answer
// `3`), `40/user,{...}` connected, `44/user,{message,data}` refused, `41/user,` disconnected,
// `42/user,["name",...]` event, `43/user,<id>[...]` ack of the event we sent as `42/user,<id>[...]`.
import WebSocket from 'ws';
import { closeAll, openAll } from './sockets.mjs';
import { withTimeout } from './wait.mjs';

const PATH = '/ws/socket.io/?EIO=4&transport=websocket';
const NSP = '/user';
const CONNECT_TIMEOUT_MS = 30_000;
const ACK_TIMEOUT_MS = 30_000;
const SWEEP_MS = 1_000;

const PING = '2'.charCodeAt(0);
const MESSAGE = '4'.charCodeAt(0);
const OPEN = '0'.charCodeAt(0);
const CLOSE = '1'.charCodeAt(0);
const SIO_CONNECT = '0'.charCodeAt(0);
const SIO_DISCONNECT = '1'.charCodeAt(0);
const SIO_EVENT = '2'.charCodeAt(0);
const SIO_ACK = '3'.charCodeAt(0);
const SIO_CONNECT_ERROR = '4'.charCodeAt(0);
const NSP_PREFIX = Buffer.from(`${NSP},`); // after the two type digits
const EVENT_PREFIX = `42${NSP},`;
const DIGIT_0 = '0'.charCodeAt(0);
const DIGIT_9 = '9'.charCodeAt(0);

/** True when `buf` holds `prefix` (a Buffer) at `offset`. */
const hasAt = (buf, prefix, offset) =>
  buf.length >= offset + prefix.length && buf.compare(prefix, 0, prefix.length, offset, offset + prefix.length) === 0;

// --- the shared ack timer ---

const live = new Set();
let sweeper;

function sweep() {
  const oldest = Date.now() - ACK_TIMEOUT_MS;
  for (const socket of live) socket.expire(oldest);
}

function track(socket) {
  live.add(socket);
  if (!sweeper) {
    sweeper = setInterval(sweep, SWEEP_MS);
    sweeper.unref();
  }
}

function untrack(socket) {
  live.delete(socket);
  if (live.size === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

// --- one socket ---

class LeanSocket {
  constructor(ws) {
    this.ws = ws;
    this.nextId = 0;
    /** Ack id → { resolve, reject, sent (Date.now()) }, in the order sent. */
    this.pending = new Map();
    this.closed = false;
    /** Set by the bench to see the events (raw frames, `42/user,[...]`); unread when unset. */
    this.onEvent = undefined;
  }

  /** Sends `event` with `body` and resolves with the first argument of its acknowledgement. */
  emitWithAck(event, body) {
    if (this.closed) return Promise.reject(new Error(`${event}: socket closed`));
    const id = this.nextId++;
    const args = body === undefined ? '' : `,${JSON.stringify(body)}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, sent: Date.now() });
      this.ws.send(`${EVENT_PREFIX}${id}[${JSON.stringify(event)}${args}]`);
    });
  }

  /** Rejects the acks sent before `oldest` (ms since the epoch); the Map is in sending order. */
  expire(oldest) {
    for (const [id, entry] of this.pending) {
      if (entry.sent > oldest) break;
      this.pending.delete(id);
      entry.reject(new Error(`timed out after ${ACK_TIMEOUT_MS} ms: ack ${id}`));
    }
  }

  onAck(buf) {
    let i = 2 + NSP_PREFIX.length;
    let id = 0;
    while (i < buf.length && buf[i] >= DIGIT_0 && buf[i] <= DIGIT_9) id = id * 10 + (buf[i++] - DIGIT_0);
    const entry = this.pending.get(id);
    if (!entry) return; // timed out already
    this.pending.delete(id);
    try {
      entry.resolve(JSON.parse(buf.toString('utf8', i))[0]);
    } catch (error) {
      entry.reject(error);
    }
  }

  /** Marks the socket closed and rejects what waits on it. Idempotent. */
  shutDown(reason) {
    if (this.closed) return;
    this.closed = true;
    untrack(this);
    const error = new Error(`socket closed: ${reason}`);
    for (const entry of this.pending.values()) entry.reject(error);
    this.pending.clear();
  }

  /** Leaves the namespace (unless the server ended it) and closes the websocket. */
  close() {
    const open = this.ws.readyState === WebSocket.OPEN;
    if (!this.closed && open) this.ws.send(`41${NSP},`);
    this.shutDown('closed by the bench');
    if (open || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }
}

/**
 * Opens a socket on /user and resolves once `readyEvent` arrives ('connect', or the service's
 * 'connected', sent after the server joined the socket to its channels).
 */
export function openLeanSocket(url, { auth, readyEvent = 'connect' } = {}) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${PATH}`, {
    perMessageDeflate: false,
    skipUTF8Validation: true,
  });
  const socket = new LeanSocket(ws);
  const readyPrefix =
    readyEvent === 'connect' ? undefined : Buffer.from(`${EVENT_PREFIX}[${JSON.stringify(readyEvent)}`);
  let ready = false;
  let settle;
  const opened = new Promise((resolve, reject) => {
    settle = { resolve, reject };
  });
  const becomeReady = () => {
    ready = true;
    track(socket);
    settle.resolve(socket);
  };

  ws.on('message', (buf) => {
    const type = buf[0];
    if (type === PING) {
      ws.send('3');
    } else if (type === MESSAGE) {
      const sioType = buf[1];
      if (!hasAt(buf, NSP_PREFIX, 2)) return; // another namespace
      if (sioType === SIO_ACK) {
        socket.onAck(buf);
      } else if (sioType === SIO_EVENT) {
        // The readiness event, then nothing unless the bench listens (socket.onEvent, given the
        // raw frame): the other events are the service's work, not ours.
        if (!ready && readyPrefix && hasAt(buf, readyPrefix, 0)) {
          const next = buf[readyPrefix.length];
          if (next === 0x2c || next === 0x5d) becomeReady(); // `,` or `]`
        } else if (socket.onEvent) {
          socket.onEvent(buf);
        }
      } else if (sioType === SIO_CONNECT) {
        if (!readyPrefix) becomeReady();
      } else if (sioType === SIO_CONNECT_ERROR) {
        let message = 'connect error';
        let detail = '';
        try {
          const error = JSON.parse(buf.toString('utf8', 2 + NSP_PREFIX.length));
          message = error.message;
          if (error.data !== undefined) detail = ` ${JSON.stringify(error.data)}`;
        } catch {
          // keep the generic message
        }
        settle.reject(new Error(`socket refused: ${message}${detail}`));
        socket.close();
      } else if (sioType === SIO_DISCONNECT) {
        settle.reject(new Error('socket disconnected by the server'));
        socket.shutDown('disconnected by the server');
        socket.close();
      }
    } else if (type === OPEN) {
      ws.send(`40${NSP},${auth === undefined ? '' : JSON.stringify(auth)}`);
    } else if (type === CLOSE) {
      socket.shutDown('closed by the server');
      socket.close();
    }
  });
  ws.on('error', (error) => {
    settle.reject(error);
    socket.shutDown(error.message);
  });
  ws.on('close', (code) => {
    settle.reject(new Error(`websocket closed (${code}) before ${readyEvent}`));
    socket.shutDown(`websocket closed (${code})`);
  });

  return withTimeout(opened, CONNECT_TIMEOUT_MS, `socket ${readyEvent} on ${url}`).catch((error) => {
    socket.close();
    throw error;
  });
}

/**
 * Opens `count` lean sockets at `url` (or `url(index)`), `setup(index)` giving the options of each;
 * returns them in index order and the wall time. On a failure closes the ones opened and throws.
 */
export const openManyLean = (url, count, setup) =>
  openAll(count, (index) => openLeanSocket(typeof url === 'function' ? url(index) : url, setup(index)));

export const closeAllLean = closeAll;
