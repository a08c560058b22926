// A bound on what one connection may have queued unsent (contract section 7, close code 1013). A
// client that stops reading would otherwise make the server hold every frame published to its
// channels until the heartbeat gave up on it (~30 s; hundreds of MB under a flood). Past the bound
// the connection is closed: on a websocket with close code 1013 ("too slow"), on socket.io seen
// by the client as a transport close, and it reconnects and resumes with `since`, losing nothing.
//
// What counts as unsent: engine.io's write buffer (packets waiting for the transport; while a
// write is under way or the client does not read, they pile up there) plus what the websocket has
// handed to the TCP socket but the kernel has not taken (ws's bufferedAmount); for a plain
// WebSocket connection, which has no engine, its ws's bufferedAmount alone. Reading them reaches
// into engine.io (`writeBuffer`, `transport.socket`) and ws (`bufferedAmount`, public): if either
// changes shape, unsentBytes() reads 0 and a spec test fails (send-budget.spec.ts).
import { Injectable, Logger } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { Socket } from 'socket.io';
import { AppConfig } from '../config/app-config.js';
import { metricOnce } from '../metrics/metric-once.js';
import { isPlainConnection } from './plain/plain-connection.js';

interface EnginePacket {
  data?: unknown;
}

interface WebSocketLike {
  bufferedAmount?: number;
  close(code: number, reason: string): void;
  terminate(): void;
}

interface EngineConnection {
  writeBuffer?: EnginePacket[];
  transport?: { name?: string; socket?: WebSocketLike };
  close(discard?: boolean): void;
}

/** The close code of a connection closed for not keeping up (RFC 6455 "try again later"). */
export const TOO_SLOW_CODE = 1013;
/** How long a client may take nothing while a sender waits for it (drained). */
const STALLED_MS = 200;
/** How long a too-slow websocket gets to take its close frame before it is cut. */
const TERMINATE_AFTER_MS = 1000;

const closedTooSlow = metricOnce(
  'realtime_slow_connections_closed_total',
  () =>
    new Counter({
      name: 'realtime_slow_connections_closed_total',
      help: 'Connections closed because their unsent backlog passed WS_SEND_BUFFER_LIMIT',
    }),
);

const sizeOf = (data: unknown): number =>
  typeof data === 'string'
    ? data.length
    : data instanceof ArrayBuffer || ArrayBuffer.isView(data)
      ? data.byteLength
      : 0;

/** Bytes the server holds for `socket` that the client has not taken yet. */
export function unsentBytes(socket: Socket): number {
  if (isPlainConnection(socket)) return socket.bufferedAmount;
  const conn = socket.conn as unknown as EngineConnection;
  let bytes = conn.transport?.socket?.bufferedAmount ?? 0;
  const queued = conn.writeBuffer;
  if (queued) for (const packet of queued) bytes += sizeOf(packet.data);
  return bytes;
}

@Injectable()
export class SendBudget {
  private readonly logger = new Logger(SendBudget.name);
  readonly limit: number;

  constructor(config: AppConfig) {
    this.limit = config.env.WS_SEND_BUFFER_LIMIT;
  }

  /** True when `socket` is past its bound, in which case it is being closed. */
  exceeded(socket: Socket): boolean {
    if (socket.disconnected) return false;
    if (isPlainConnection(socket)) {
      if (socket.bufferedAmount <= this.limit) return false;
      this.closeTooSlow(socket, socket.bufferedAmount);
      return true;
    }
    const conn = socket.conn as unknown as EngineConnection;
    if (!conn.writeBuffer?.length && (conn.transport?.socket?.bufferedAmount ?? 0) <= this.limit) return false;
    const unsent = unsentBytes(socket);
    if (unsent <= this.limit) return false;
    this.closeTooSlow(socket, unsent);
    return true;
  }

  /**
   * Resolves to true once `socket` holds less than a quarter of its bound unsent (or is gone): a
   * sender of many frames at once (a replay) waits for the client instead of queueing them all. To
   * false when the client takes nothing for STALLED_MS: it is not reading, and waiting longer would
   * hold up what waits behind the sender (its channel's later frames) without bound; the sender
   * goes on, and the bound closes the connection (exceeded).
   */
  async drained(socket: Socket): Promise<boolean> {
    let unsent = unsentBytes(socket);
    let progressAt = Date.now();
    while (!socket.disconnected && unsent > this.limit / 4) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      const now = unsentBytes(socket);
      if (now < unsent) progressAt = Date.now();
      else if (Date.now() - progressAt > STALLED_MS) return false;
      unsent = now;
    }
    return true;
  }

  /** Whether a sender should stop and wait (half the bound is queued). */
  isFilling(socket: Socket): boolean {
    return unsentBytes(socket) > this.limit / 2;
  }

  private closeTooSlow(socket: Socket, unsent: number): void {
    closedTooSlow.inc();
    this.logger.warn(
      { socket_id: socket.id, namespace: socket.nsp.name, unsent_bytes: unsent, limit: this.limit },
      'closing a connection that does not keep up',
    );
    if (isPlainConnection(socket)) {
      socket.end(TOO_SLOW_CODE, 'too slow: resume with since');
      setTimeout(() => socket.terminate(), TERMINATE_AFTER_MS).unref();
      return;
    }
    const conn = socket.conn as unknown as EngineConnection;
    const ws = conn.transport?.name === 'websocket' ? conn.transport.socket : undefined;
    // The close frame goes out behind what is buffered (a slow client still gets the code); the
    // engine drops its own backlog at once; the TCP socket is cut shortly after either way.
    ws?.close(TOO_SLOW_CODE, 'too slow: resume with since');
    conn.close(true);
    if (ws) setTimeout(() => ws.terminate(), TERMINATE_AFTER_MS).unref();
  }
}
