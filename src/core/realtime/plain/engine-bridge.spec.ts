// Pins what the bridge uses of engine.io: a plain WebSocket handed to Server.handshake becomes a
// socket.io connection that connects to a namespace, gets its requests answered and its events.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { assertEngineBridge, openEngineConnection } from './engine-bridge.js';
import type { EndpointProtocol, PlainContext } from './plain-protocol.js';
import { PlainSocket, type PlainServices } from './plain-socket.js';

describe('engine bridge', () => {
  let http: HttpServer;
  let io: Server;
  let wss: WebSocketServer;
  let events: unknown[];

  beforeEach(async () => {
    http = createServer();
    io = new Server(http, { destroyUpgrade: false });
    io.of('/user').on('connection', (socket) => {
      void socket.join('room');
      socket.emit('hello', { auth: socket.handshake.auth as unknown });
      socket.on('echo', (data: unknown, ack: (answer: unknown) => void) => ack({ echoed: data }));
    });
    wss = new WebSocketServer({ noServer: true });
    events = [];
    const protocol: EndpointProtocol = {
      path: '/plain',
      credentials: () => 'in-band',
      onOpen: async (ctx: PlainContext) => {
        const outcome = await ctx.connect({ token: 'abc' });
        ctx.sendFrame({ connected: outcome.ok });
      },
      onFrame: async (ctx, frame) => ctx.sendFrame({ answer: await ctx.request('echo', frame) }),
      onEvent: (ctx, event, payload) => {
        events.push({ event, payload });
        ctx.sendFrame({ event, payload });
      },
      invalid: (ctx, message) => ctx.sendFrame({ invalid: message }),
      refused: (ctx, refusal) => ctx.sendFrame({ refused: refusal.code }),
    };
    const services: PlainServices = {
      principalOf: () => undefined,
      countMessage: () => Promise.resolve({ allowed: true }),
      anonymousPerSecond: 100,
    };
    // The same protocol, but with channel events translated once for every connection.
    const streamed: EndpointProtocol = {
      ...protocol,
      path: '/streamed',
      streamFrame: (frame) => ({ streamed: frame }),
    };
    http.on('upgrade', (req, socket, head) => {
      const endpoint = [protocol, streamed].find((p) => req.url?.startsWith(p.path));
      if (!endpoint) return;
      wss.handleUpgrade(req, socket, head, (ws) => {
        void openEngineConnection(io, req, new PlainSocket(ws, endpoint, new URLSearchParams(), services), () =>
          ws.close(),
        );
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    wss.close();
    await io.close();
  });

  it('finds Server.handshake in the pinned engine.io', () => {
    expect(() => assertEngineBridge(io)).not.toThrow();
  });

  it('connects a plain WebSocket to a namespace, answers its requests and pushes its events', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/plain`);
    const frames: unknown[] = [];
    ws.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString())));
    await new Promise((resolve) => ws.once('open', resolve));
    await expect.poll(() => frames).toContainEqual({ connected: true });
    await expect.poll(() => frames).toContainEqual({ event: 'hello', payload: { auth: { token: 'abc' } } });
    ws.send(JSON.stringify({ n: 1 }));
    await expect.poll(() => frames).toContainEqual({ answer: { echoed: { n: 1 } } });
    ws.send('not json');
    await expect.poll(() => frames).toContainEqual({ invalid: 'invalid request format' });
    ws.close();
  });

  it("sends a channel event in the endpoint's streamFrame to each of its connections, and to onEvent elsewhere", async () => {
    const port = (http.address() as AddressInfo).port;
    const open = async (path: string) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
      const frames: unknown[] = [];
      ws.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString())));
      await expect.poll(() => frames).toContainEqual({ event: 'hello', payload: { auth: { token: 'abc' } } });
      return { ws, frames };
    };
    const clients = [await open('/streamed'), await open('/plain'), await open('/streamed')];
    const frame = { event: 'balance', channel: 'c1', seq: 1, timestamp: '2026-01-01T00:00:00.000Z', payload: { n: 1 } };
    io.of('/user').to('room').emit('stream', frame);
    await expect.poll(() => clients[0].frames).toContainEqual({ streamed: frame });
    await expect.poll(() => clients[1].frames).toContainEqual({ event: 'stream', payload: frame });
    await expect.poll(() => clients[2].frames).toContainEqual({ streamed: frame });
    io.of('/user')
      .to('room')
      .emit('stream', { ...frame, seq: 2 });
    await expect.poll(() => clients[2].frames).toContainEqual({ streamed: { ...frame, seq: 2 } });
    expect(events).toEqual([
      { event: 'hello', payload: { auth: { token: 'abc' } } },
      { event: 'hello', payload: { auth: { token: 'abc' } } },
      { event: 'hello', payload: { auth: { token: 'abc' } } },
      { event: 'stream', payload: frame },
      { event: 'stream', payload: { ...frame, seq: 2 } },
    ]);
    for (const { ws } of clients) ws.close();
  });
});
