// A lean plain-WebSocket client for the load generator (`ws`), for the service's plain endpoints
// and the bare `ws` server alike. The bench process shares the 2 cores with the servers, so frames
// are looked at by their first bytes only: the ready frame by its prefix, an event by the id at the
// start of its payload; nothing is JSON-parsed unless it is an error to report. `ws` answers the
// servers' WebSocket pings by itself.
import WebSocket from 'ws';
import { closeAll, openAll } from './sockets.mjs';
import { withTimeout } from './wait.mjs';

const CONNECT_TIMEOUT_MS = 30_000;
const SHOWN_CHARS = 300;

/** Where an event's payload id starts: `{"type":"<event>","data":{"id":<digits>,...`. */
const ID_KEY = Buffer.from('"data":{"id":');
const DIGIT_0 = '0'.charCodeAt(0);
const DIGIT_9 = '9'.charCodeAt(0);

/**
 * The payload id of an event frame (`{"type":..., "data":{"id":N, ...}, ...}`, as both the service
 * and the bare server send them), or -1. Looks only near the start: the id is the payload's first key.
 */
export function frameId(buf) {
  const at = buf.indexOf(ID_KEY);
  if (at < 0 || at > 64) return -1;
  let i = at + ID_KEY.length;
  let id = 0;
  const start = i;
  while (i < buf.length && buf[i] >= DIGIT_0 && buf[i] <= DIGIT_9) id = id * 10 + (buf[i++] - DIGIT_0);
  return i === start ? -1 : id;
}

class PlainSocket {
  constructor(ws) {
    this.ws = ws;
    /** Set by a measurement: called with every frame (a Buffer) after the ready one. */
    this.onFrame = undefined;
  }

  close() {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }
}

/**
 * Opens a plain WebSocket at `url` (ws://...) and resolves once a frame that starts with `ready`
 * (a string) arrives: the service's `{"type":"connected"`, after it joined the connection to its
 * channels; the bare server's `{"joined"`, after the `hello` frame (if any) sent on open was
 * handled. `headers` go on the upgrade request (Authorization). A refused upgrade rejects with
 * its HTTP status and body; a close before the ready frame with the frames received till then.
 */
export function openPlainSocket({ url, headers, ready, hello }) {
  const ws = new WebSocket(url, { headers, perMessageDeflate: false, skipUTF8Validation: true });
  const socket = new PlainSocket(ws);
  const readyPrefix = Buffer.from(ready);
  let isReady = false;
  let early = '';
  const opened = new Promise((resolve, reject) => {
    ws.on('message', (buf) => {
      if (isReady) {
        socket.onFrame?.(buf);
      } else if (
        buf.length >= readyPrefix.length &&
        buf.compare(readyPrefix, 0, readyPrefix.length, 0, readyPrefix.length) === 0
      ) {
        isReady = true;
        resolve(socket);
      } else if (early.length < SHOWN_CHARS) {
        early += buf.toString('utf8', 0, SHOWN_CHARS);
      }
    });
    ws.once('open', () => {
      if (hello !== undefined) ws.send(hello);
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk.toString()));
      res.on('end', () => reject(new Error(`upgrade refused: ${res.statusCode} ${body.slice(0, SHOWN_CHARS)}`)));
    });
    ws.on('error', reject);
    ws.once('close', (code) => reject(new Error(`closed (${code}) before ${ready}; frames: ${early || 'none'}`)));
  });
  return withTimeout(opened, CONNECT_TIMEOUT_MS, `${ready} on ${url}`).catch((error) => {
    socket.close();
    throw error;
  });
}

/**
 * Opens `count` plain sockets, `setup(index)` giving the options of each (see openPlainSocket); returns
 * them in index order and the wall time. On a failure closes the ones opened and throws.
 */
export const openManyPlain = (count, setup) => openAll(count, (index) => openPlainSocket(setup(index)));

export const closeAllPlain = closeAll;
