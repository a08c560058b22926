// The `ws` side of a plain connection: its socket class and the listeners every socket shares.
import { WebSocket } from 'ws';
import { secondsNow } from './plain-heartbeat.js';
import type { PlainConnection } from './plain-connection.js';

/**
 * The `ws` socket of a plain connection (the WebSocketServer's `WebSocket` class): it knows its
 * connection, so one listener per event serves every socket instead of a closure per socket, and
 * the field is the socket's own rather than a property added later (which would cost the socket
 * a property array).
 */
export class PlainWebSocket extends WebSocket {
  connection?: PlainConnection = undefined;
}

const ownerOf = (ws: WebSocket): PlainConnection => (ws as PlainWebSocket).connection!;

export function onMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
  const connection = ownerOf(this);
  connection.heardAt = secondsNow();
  void connection.fromClient(isBinary ? null : data.toString('utf8'));
}

export function onPong(this: WebSocket): void {
  ownerOf(this).heardAt = secondsNow();
}

export function onClose(this: WebSocket): void {
  ownerOf(this).closed();
}

export function onError(this: WebSocket, error: Error): void {
  const connection = ownerOf(this);
  connection.services.reportError(connection, error);
}
