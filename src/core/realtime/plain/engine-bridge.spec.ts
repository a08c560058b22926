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
    http.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/plain')) return;
      wss.handleUpgrade(req, socket, head, (ws) => {
        void openEngineConnection(io, req, new PlainSocket(ws, protocol, new URLSearchParams(), services), () =>
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
});
