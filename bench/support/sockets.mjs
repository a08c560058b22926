// Client sockets of the bench: opened in parallel batches, each resolved only once the server has
// set it up (the service's `connected`, or the join acknowledged), closed all together.
import { io } from 'socket.io-client';
import { mapLimit, withTimeout } from './wait.mjs';

const PATH = '/ws/socket.io';
const CONNECT_TIMEOUT_MS = 30_000;
const ACK_TIMEOUT_MS = 30_000;
/** Handshakes in flight at once: enough to keep both cores busy without piling up timeouts. */
const CONNECT_CONCURRENCY = 100;

/**
 * Opens a socket on `namespace` (/user unless given) and resolves once `readyEvent` arrives
 * ('connect', or the service's 'connected', sent after the server joined the socket to its channels).
 */
export function openSocket(url, { auth, readyEvent = 'connect', namespace = '/user' } = {}) {
  const socket = io(`${url}${namespace}`, {
    path: PATH,
    transports: ['websocket'],
    auth,
    reconnection: false,
    forceNew: true,
  });
  const ready = new Promise((resolve, reject) => {
    socket.once(readyEvent, () => resolve(socket));
    socket.once('connect_error', (error) => {
      const detail = error.data ? ` ${JSON.stringify(error.data)}` : '';
      reject(new Error(`socket refused: ${error.message}${detail}`));
    });
  });
  return withTimeout(ready, CONNECT_TIMEOUT_MS, `socket ${readyEvent} on ${url}`).catch((error) => {
    socket.close();
    throw error;
  });
}

/** Sends `event` with `body` and checks the acknowledgement is {ok: true}. */
export async function request(socket, event, body) {
  const reply = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, body);
  if (reply?.ok !== true) throw new Error(`${event} refused: ${JSON.stringify(reply)}`);
  return reply;
}

/**
 * Opens `count` sockets at `url` (or `url(index)`), `setup(index)` giving the options of each and
 * `after(socket, index)` the request to make once it is up; returns the sockets and the wall time.
 */
export async function openMany(url, count, setup, after = async () => undefined) {
  const started = process.hrtime.bigint();
  const sockets = [];
  try {
    await mapLimit(
      Array.from({ length: count }, (_, i) => i),
      CONNECT_CONCURRENCY,
      async (index) => {
        const socket = await openSocket(typeof url === 'function' ? url(index) : url, setup(index));
        sockets.push(socket);
        await after(socket, index);
      },
    );
  } catch (error) {
    closeAll(sockets);
    throw error;
  }
  return { sockets, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/**
 * Opens `count` sockets of any kind with `open(index)`, CONNECT_CONCURRENCY handshakes at once;
 * returns them in index order and the wall time. On a failure closes the ones opened and throws.
 */
export async function openAll(count, open) {
  const started = process.hrtime.bigint();
  const sockets = new Array(count);
  try {
    await mapLimit(
      Array.from({ length: count }, (_, i) => i),
      CONNECT_CONCURRENCY,
      async (index) => {
        sockets[index] = await open(index);
      },
    );
  } catch (error) {
    closeAll(sockets);
    throw error;
  }
  return { sockets, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

export function closeAll(sockets) {
  for (const socket of sockets) socket?.close();
}
