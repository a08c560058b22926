// The bound on a connection's unsent backlog, against a real socket.io server and client whose
// TCP reads are paused. It also pins the engine.io and ws internals unsentBytes() reads: if they
// change shape, the backlog reads 0 and the first test fails.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '../config/app-config.js';
import { SendBudget, TOO_SLOW_CODE, unsentBytes } from './send-budget.js';

const LIMIT = 256 * 1024;
const FRAME = 'x'.repeat(16 * 1024);

interface PausableClient {
  io: { engine: { transport: { ws?: { _socket?: { pause(): void; resume(): void } } } } };
}

const rawOf = (client: ClientSocket) => (client as unknown as PausableClient).io.engine.transport.ws?._socket;

describe('SendBudget', () => {
  let http: HttpServer;
  let server: Server;
  let client: ClientSocket;
  let socket: Socket;
  let budget: SendBudget;

  beforeEach(async () => {
    http = createServer();
    server = new Server(http);
    const connected = new Promise<Socket>((resolve) => server.on('connection', resolve));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, {
      transports: ['websocket'],
      reconnection: false,
    });
    socket = await connected;
    await new Promise<void>((resolve) => (client.connected ? resolve() : client.once('connect', () => resolve())));
    budget = new SendBudget({ env: { WS_SEND_BUFFER_LIMIT: LIMIT } } as AppConfig);
  });

  afterEach(async () => {
    rawOf(client)?.resume();
    client.close();
    socket.disconnect(true);
    await server.close();
  });

  /**
   * Emits frames until the server holds more than `bytes` unsent for the socket, and still does a
   * moment later: the kernel's socket buffers take a few MB of a paused client's data first.
   */
  async function flood(bytes: number): Promise<number> {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      for (let i = 0; i < 4000 && unsentBytes(socket) <= bytes; i += 1) {
        socket.emit('stream', FRAME);
        if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (unsentBytes(socket) > bytes) break;
    }
    return unsentBytes(socket);
  }

  it('sees the backlog of a client that stops reading, and closes it past the bound (1013)', async () => {
    let closeCode: number | undefined;
    client.io.engine.on('close', (_reason: string, details: unknown) => {
      closeCode = (details as { context?: { code?: number } } | undefined)?.context?.code ?? closeCode;
    });
    const ws = (client.io.engine.transport as unknown as { ws: { on(e: 'close', f: (code: number) => void): void } })
      .ws;
    ws.on('close', (code) => (closeCode = code));
    rawOf(client)!.pause();
    expect(await flood(LIMIT + 1)).toBeGreaterThan(LIMIT);
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    expect(budget.exceeded(socket)).toBe(true);
    expect(await disconnected).toBe('forced close');
    // The server let go of its own backlog at once; what the websocket had in flight (at most one
    // flush of the bounded backlog) goes when the connection is cut.
    await new Promise((resolve) => setImmediate(resolve));
    expect((socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer).toHaveLength(0);
    expect(unsentBytes(socket)).toBeLessThanOrEqual(LIMIT + FRAME.length + 64);
    // Reading again, the client takes what was in flight, then the close frame: 1013.
    rawOf(client)!.resume();
    await expect.poll(() => client.disconnected, { timeout: 3000 }).toBe(true);
    expect(closeCode).toBe(TOO_SLOW_CODE);
  });

  it('leaves a client that keeps up alone under the same volume', async () => {
    let received = 0;
    client.on('stream', () => (received += 1));
    for (let round = 0; round < 20; round += 1) {
      for (let i = 0; i < 10; i += 1) socket.emit('stream', FRAME);
      expect(budget.exceeded(socket)).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await expect.poll(() => received).toBe(200);
    expect(socket.connected).toBe(true);
  });

  it('lets a sender wait until the client has taken most of its backlog', async () => {
    rawOf(client)!.pause();
    await flood(LIMIT * 0.75);
    expect(budget.isFilling(socket)).toBe(true);
    let done = false;
    const waiting = budget.drained(socket).then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(done).toBe(false);
    rawOf(client)!.resume();
    await waiting;
    expect(unsentBytes(socket)).toBeLessThanOrEqual(LIMIT / 4);
  });

  it('stops a sender waiting for a client that takes nothing (the bound then closes it)', async () => {
    rawOf(client)!.pause();
    await flood(LIMIT * 0.75);
    const started = Date.now();
    expect(await budget.drained(socket)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(socket.connected).toBe(true);
    expect(await flood(LIMIT + 1)).toBeGreaterThan(LIMIT);
    expect(budget.exceeded(socket)).toBe(true);
  });
});
