// Frames a socket receives in one turn of the event loop leave in one TCP write. A bus message
// of a posting batch carries several events for the same user (a transfer: `balance`,
// `transfer_completed` and `transaction_completed`); engine.io would write each frame on its own,
// and on this kind of machine a write to a local socket (and the wake-up of its reader) costs more
// than building the frame. While held, a websocket transport reports itself busy, so engine.io
// queues the packets as it does during any write in progress; at the end of the turn
// (setImmediate) they are flushed together under one cork.
//
// A plain WebSocket connection (no engine) is held by corking its TCP socket until the end of the
// turn.
//
// This reaches into engine.io and ws: `transport.writable` (public in engine.io's Transport),
// `Socket.flush()` and ws's `_socket`. Anything unexpected there, and the socket is left alone;
// write-coalescer.spec.ts fails at once if an upgrade changes them.
import type { Socket } from 'socket.io';
import { isPlainConnection } from './plain/plain-connection.js';

interface RawSocket {
  cork(): void;
  uncork(): void;
}

interface EngineTransport {
  name: string;
  writable: boolean;
  socket?: { _socket?: RawSocket };
}

interface EngineSocket {
  transport: EngineTransport;
  flush(): void;
}

export class WriteCoalescer {
  private held = new Map<EngineSocket, EngineTransport>();
  private corked = new Set<RawSocket>();
  private scheduled = false;

  /** `onError` hears of a socket whose flush failed; the other held sockets are flushed regardless. */
  constructor(private readonly onError: (error: unknown) => void) {}

  /** Queues what `socket` is sent from now until the end of this turn of the event loop. */
  hold(socket: Socket): void {
    if (isPlainConnection(socket)) {
      const raw = socket.rawSocket;
      if (!raw || this.corked.has(raw)) return;
      raw.cork();
      this.corked.add(raw);
      this.schedule();
      return;
    }
    const conn = socket.conn as unknown as EngineSocket;
    const transport = conn.transport;
    if (
      this.held.has(conn) ||
      transport.name !== 'websocket' ||
      transport.writable !== true ||
      typeof conn.flush !== 'function'
    ) {
      return;
    }
    transport.writable = false;
    this.held.set(conn, transport);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.release);
  }

  private readonly release = (): void => {
    this.scheduled = false;
    const held = this.held;
    this.held = new Map();
    const corked = this.corked;
    this.corked = new Set();
    for (const raw of corked) {
      try {
        raw.uncork();
      } catch (error) {
        this.onError(error);
      }
    }
    for (const [conn, transport] of held) {
      // Nothing could write meanwhile (the transport said busy); an upgrade or a close replaced it.
      if (conn.transport !== transport) continue;
      transport.writable = true;
      // Each socket on its own: one that fails must not leave the others held (corked, unwritable).
      const raw = transport.socket?._socket;
      try {
        raw?.cork();
        try {
          conn.flush();
        } finally {
          raw?.uncork();
        }
      } catch (error) {
        this.onError(error);
      }
    }
  };
}
