// How a plain WebSocket becomes a socket.io connection (contract section 7): the connection is
// handed to the engine.io server as if a socket.io client had opened a websocket transport, so
// every request, channel, limit and guarantee of socket.io `/user` applies to it unchanged, and
// only its framing differs (plain-socket.ts translates both ways).
//
// This reaches into engine.io 6 (pinned with socket.io 4.8.3): `Server.handshake(transport, req,
// close)`, which opens an engine socket on a request whose `_query` it reads and whose
// `websocket` its websocket transport wraps. engine-bridge.spec.ts fails at once if that changes.
import type { IncomingMessage } from 'node:http';
import type { Server } from 'socket.io';

/** What engine.io's websocket transport uses of a `ws` WebSocket. */
/* eslint-disable @typescript-eslint/no-explicit-any -- listener types as EventEmitter declares them */
export interface EngineWebSocket {
  send(data: string, callback?: (error?: Error) => void): void;
  close(code?: number, reason?: string): void;
  on(event: 'message' | 'close' | 'error', listener: (...args: any[]) => void): unknown;
  once(event: 'close', listener: (...args: any[]) => void): unknown;
}

interface EngineServer {
  handshake(transport: 'websocket', req: IncomingMessage, close: (code: number) => void): Promise<unknown>;
}

type EngineRequest = IncomingMessage & { _query?: Record<string, string>; websocket?: EngineWebSocket };

/** Throws unless the pinned engine.io still offers what the bridge uses. */
export function assertEngineBridge(io: Server): EngineServer {
  const engine = io.engine as unknown as Partial<EngineServer>;
  if (typeof engine.handshake !== 'function') {
    throw new Error(
      'engine.io changed: Server.handshake(transport, req, close) is gone; plain WebSockets cannot connect',
    );
  }
  return engine as EngineServer;
}

/**
 * Opens an engine.io connection (protocol 4, websocket transport) over `websocket`; socket.io then
 * waits for the CONNECT packet the plain socket sends on the client's behalf. `onRefused` hears of
 * an engine refusal (it closes the connection).
 */
export async function openEngineConnection(
  io: Server,
  req: IncomingMessage,
  websocket: EngineWebSocket,
  onRefused: (code: number) => void,
): Promise<void> {
  const engine = assertEngineBridge(io);
  const request = req as EngineRequest;
  request._query = { EIO: '4', transport: 'websocket' };
  request.websocket = websocket;
  await engine.handshake('websocket', request, onRefused);
}
