// Pins what a PlainConnection relies on of socket.io (4.8, its in-memory adapter): put in a real
// server's namespace, it is announced to `connection` listeners, joins rooms, receives room
// broadcasts (decoded from the adapter's encoded packet), shows in fetchSockets, is closed by
// disconnectSockets with its endpoint's close code, and leaves the namespace when its client goes.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Namespace } from 'socket.io';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { PLAIN_ENDPOINT } from '../realtime-handshake.js';
import type { AppConfig } from '../../config/app-config.js';
import type { SocketData } from '../realtime.types.js';
import { SendBudget, TOO_SLOW_CODE, unsentBytes } from '../send-budget.js';
import { PlainConnection } from './plain-connection.js';
import type { PlainServices } from './plain-services.js';
import { PlainWebSocket } from './plain-web-socket.js';
import type { EndpointProtocol } from './plain-protocol.js';

const data: SocketData = {
  principal: { kind: 'api_key', userId: 'u1', channel: 'c1', plan: 'free', role: 'user', apiKeyId: 'k1' },
  connectedAt: 0,
  instance: 'test',
  endpoint: '/plain',
};

const protocol: EndpointProtocol = {
  path: '/plain',
  credentials: () => 'in-band',
  onOpen: () => undefined,
  onFrame: async (ctx, frame) => ctx.sendFrame({ answer: await ctx.request('echo', frame) }),
  onEvent: (ctx, event, payload) => {
    if (event === 'bye') ctx.setClose(4003, 'bye');
    ctx.sendFrame({ event, payload });
  },
  streamFrame: (frame) => ({ streamed: frame.seq }),
  invalid: (ctx, message) => ctx.sendFrame({ invalid: message }),
  refused: (ctx, refusal) => ctx.sendFrame({ refused: refusal.code }),
};

describe('PlainConnection in a socket.io namespace', () => {
  let http: HttpServer;
  let io: Server;
  let nsp: Namespace;
  let wss: WebSocketServer;
  let opened: Promise<PlainConnection>;
  let client: WebSocket;
  let frames: unknown[];
  let arrivals: unknown[];

  beforeEach(async () => {
    http = createServer();
    io = new Server(http);
    nsp = io.of('/user');
    arrivals = [];
    nsp.on('connection', (socket) => arrivals.push(socket));
    wss = new WebSocketServer({ server: http, path: '/plain', WebSocket: PlainWebSocket });
    const services: PlainServices = {
      nsp,
      connect: (connection) => {
        connection.enter(data);
        return Promise.resolve({ ok: true, data: { sid: connection.id } });
      },
      countMessage: () => Promise.resolve({ allowed: true }),
      anonymousPerSecond: 10,
      reportError: () => undefined,
    };
    opened = new Promise((resolve) =>
      wss.on('connection', (ws) => {
        const mark = { endpoint: '/plain', streams: [], single: false };
        resolve(new PlainConnection(ws, protocol, services, mark, { query: new URLSearchParams() }));
      }),
    );
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    frames = [];
    client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/plain`);
    client.on('message', (raw: Buffer) => frames.push(JSON.parse(raw.toString('utf8'))));
    await new Promise((resolve) => client.once('open', resolve));
  });

  afterEach(async () => {
    client.terminate();
    await io.close();
    wss.close();
  });

  const nextFrames = async (count: number) => {
    const deadline = Date.now() + 2000;
    while (frames.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return frames.splice(0, count);
  };

  it('is announced as a socket, joins rooms and hears broadcasts, shows in fetchSockets', async () => {
    const connection = await opened;
    expect((await connection.connect()).ok).toBe(true);
    expect(arrivals).toEqual([connection]);
    expect(nsp.sockets.get(connection.id)).toBe(connection);
    expect(connection[PLAIN_ENDPOINT].endpoint).toBe('/plain');
    await connection.join(['room-a', 'room-b']);
    expect([...connection.rooms].sort()).toEqual(['room-a', 'room-b']);

    nsp.to('room-a').emit('hello', { n: 1 });
    nsp.local.to('room-b').emit('stream', { event: 'e', channel: 'room-b', seq: 7, timestamp: 't', payload: {} });
    expect(await nextFrames(2)).toEqual([{ event: 'hello', payload: { n: 1 } }, { streamed: 7 }]);

    const [found] = await nsp.in('room-a').fetchSockets();
    expect(found.id).toBe(connection.id);
    expect(found.data).toEqual(data);
    expect(found.handshake.query).toEqual({ transport: 'websocket' });
  });

  it('passes requests to the onAny listeners with an ack, and answers with what they acked', async () => {
    const connection = await opened;
    await connection.connect();
    connection.onAny(function (this: PlainConnection, event: string, ...args: unknown[]) {
      expect(this).toBe(connection);
      const [body, ack] = args as [unknown, (answer: unknown) => void];
      ack({ event, body });
    });
    client.send(JSON.stringify({ x: 1 }));
    expect(await nextFrames(1)).toEqual([{ answer: { event: 'echo', body: { x: 1 } } }]);
  });

  it('is closed by disconnectSockets with the code its endpoint chose, and leaves the namespace', async () => {
    const connection = await opened;
    await connection.connect();
    await connection.join('room-a');
    const reasons: string[] = [];
    connection.once('disconnect', (reason) => reasons.push(reason));
    const closed = new Promise<number>((resolve) => client.once('close', resolve));
    nsp.to('room-a').emit('bye', {});
    nsp.in('room-a').disconnectSockets(true);
    expect(await closed).toBe(4003);
    expect(reasons).toEqual(['server namespace disconnect']);
    expect(nsp.sockets.has(connection.id)).toBe(false);
    expect(nsp.adapter.rooms.has('room-a')).toBe(false);
  });

  it('leaves the namespace when its client goes', async () => {
    const connection = await opened;
    await connection.connect();
    await connection.join('room-a');
    const left = new Promise<string>((resolve) => connection.once('disconnect', resolve));
    client.close();
    expect(await left).toBe('transport close');
    expect(nsp.sockets.has(connection.id)).toBe(false);
    expect(nsp.adapter.rooms.has('room-a')).toBe(false);
    expect(connection.emit('hello', {})).toBe(false);
  });

  it('is closed with 1013 past its unsent bound when its client stops reading (SendBudget)', async () => {
    const limit = 256 * 1024;
    const budget = new SendBudget({ env: { WS_SEND_BUFFER_LIMIT: limit } } as AppConfig);
    const connection = await opened;
    await connection.connect();
    const raw = (client as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    const payload = 'x'.repeat(16 * 1024);
    for (let round = 0; round < 200 && unsentBytes(connection as never) <= limit; round += 1) {
      for (let i = 0; i < 50; i += 1) connection.emit('hello', payload);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(unsentBytes(connection as never)).toBeGreaterThan(limit);
    const left = new Promise<string>((resolve) => connection.once('disconnect', resolve));
    const closed = new Promise<number>((resolve) => client.once('close', resolve));
    expect(budget.exceeded(connection as never)).toBe(true);
    raw.resume();
    expect(await closed).toBe(TOO_SLOW_CODE);
    expect(await left).toBe('transport close');
    expect(nsp.sockets.has(connection.id)).toBe(false);
  });
});
