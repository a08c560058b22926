import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RedisService } from '../redis/redis.service.js';
import { RealtimeBus } from './realtime-bus.js';
import type { StreamFrame } from './realtime.types.js';
import { WriteCoalescer } from './write-coalescer.js';

interface RawSocket {
  _writev?: (...args: unknown[]) => unknown;
  _write: (...args: unknown[]) => unknown;
}

/** Counts the writes (TCP send calls) a server socket makes from now on. */
function countWrites(socket: Socket): () => number {
  const raw = (socket.conn as unknown as { transport: { socket: { _socket: RawSocket } } }).transport.socket._socket;
  let writes = 0;
  const { _write, _writev } = raw;
  raw._write = (...args) => {
    writes += 1;
    return _write.apply(raw, args);
  };
  if (_writev) {
    raw._writev = (...args) => {
      writes += 1;
      return _writev.apply(raw, args);
    };
  }
  return () => writes;
}

const fail = (error: unknown) => {
  throw error;
};

describe('WriteCoalescer', () => {
  let http: HttpServer;
  let server: Server;
  let client: ClientSocket;
  let socket: Socket;
  let received: number[];

  beforeEach(async () => {
    http = createServer();
    server = new Server(http);
    const connected = new Promise<Socket>((resolve) => server.on('connection', resolve));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ['websocket'] });
    received = [];
    client.on('stream', (n: number) => received.push(n));
    socket = await connected;
  });

  afterEach(async () => {
    client.close();
    await server.close();
  });

  const sendThree = (coalescer?: WriteCoalescer) => {
    for (const n of [1, 2, 3]) {
      coalescer?.hold(socket);
      socket.emit('stream', n);
    }
  };

  // What hold() leans on in engine.io 6.6 and ws 8 (write-coalescer.ts): if an upgrade changes it,
  // these fail here rather than the coalescer quietly leaving every socket alone.
  it('finds engine.io and ws as it was written against: a websocket transport with a plain `writable` flag', async () => {
    const conn = socket.conn as unknown as {
      transport: { name: string; writable: boolean; socket?: { _socket?: Record<string, unknown> } };
      writeBuffer: unknown[];
      flush: unknown;
    };
    const transport = conn.transport;
    expect(transport.name).toBe('websocket');
    expect(typeof conn.flush).toBe('function');
    expect(Array.isArray(conn.writeBuffer)).toBe(true);
    const flag = Object.getOwnPropertyDescriptor(transport, 'writable');
    expect(flag).toMatchObject({ value: true, writable: true }); // an own data property, no setter
    const raw = transport.socket?._socket;
    expect(typeof raw?.cork).toBe('function');
    expect(typeof raw?.uncork).toBe('function');

    // Busy while a write is under way, writable again when it is done.
    socket.emit('stream', 1);
    expect(transport.writable).toBe(false);
    await expect.poll(() => transport.writable).toBe(true);

    // A transport that says busy makes engine.io keep packets in the socket's buffer; flush() sends them.
    const writes = countWrites(socket);
    transport.writable = false;
    socket.emit('stream', 2);
    socket.emit('stream', 3);
    expect(conn.writeBuffer).toHaveLength(2);
    expect(writes()).toBe(0);
    transport.writable = true;
    (conn.flush as () => void).call(conn);
    expect(conn.writeBuffer).toHaveLength(0);
    await expect.poll(() => received).toEqual([1, 2, 3]);
  });

  it('sends what a socket gets in one turn of the event loop in one write, in order', async () => {
    const writes = countWrites(socket);
    sendThree(new WriteCoalescer(fail));
    expect(writes()).toBe(0); // held until the end of the turn
    await expect.poll(() => received).toEqual([1, 2, 3]);
    expect(writes()).toBe(1);

    // Released: the next turn writes at once again.
    socket.emit('stream', 4);
    expect(writes()).toBe(2);
    await expect.poll(() => received).toEqual([1, 2, 3, 4]);
  });

  it('without it, each frame is a write of its own', async () => {
    const writes = countWrites(socket);
    sendThree();
    await expect.poll(() => received).toEqual([1, 2, 3]);
    expect(writes()).toBeGreaterThanOrEqual(2);
  });

  it('leaves a socket alone when a write is already under way, and one that closed meanwhile', async () => {
    const coalescer = new WriteCoalescer(fail);
    socket.emit('stream', 1); // engine.io now waits for this write to finish
    sendThree(coalescer);
    await expect.poll(() => received).toEqual([1, 1, 2, 3]);

    coalescer.hold(socket);
    socket.emit('stream', 9);
    client.close();
    socket.disconnect(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(received).toEqual([1, 1, 2, 3]);
  });

  it('flushes every other held socket when one socket’s flush fails', async () => {
    const second = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ['websocket'] });
    const secondReceived: number[] = [];
    second.on('stream', (n: number) => secondReceived.push(n));
    const other = await new Promise<Socket>((resolve) => server.once('connection', resolve));
    try {
      const errors: unknown[] = [];
      const coalescer = new WriteCoalescer((error) => errors.push(error));
      for (const target of [socket, other]) {
        coalescer.hold(target);
        target.emit('stream', 7);
      }
      // The first socket's flush at the end of this turn (the coalescer's) fails once.
      const conn = socket.conn as unknown as { flush(): void };
      const flush = conn.flush.bind(conn);
      let failures = 0;
      conn.flush = () => {
        failures += 1;
        if (failures === 1) throw new Error('flush failed');
        flush();
      };
      await expect.poll(() => secondReceived).toEqual([7]);
      expect(errors).toHaveLength(1);
      // The failed socket was left writable: its next frame (and the one it held) goes out.
      socket.emit('stream', 8);
      await expect.poll(() => received).toEqual([7, 8]);
    } finally {
      second.close();
    }
  });

  it('is written before the bus sends the published message to Redis (the reply and the pushes first)', async () => {
    const published: { channel: string; message: string; writesBefore: number }[] = [];
    let writes = () => 0;
    const redis = {
      key: (...parts: string[]) => parts.join(':'),
      publish: (channel: string, message: string) => {
        published.push({ channel, message, writesBefore: writes() });
        return Promise.resolve();
      },
      subscribe: () => Promise.resolve({ unsubscribe: () => Promise.resolve() }),
    } as unknown as RedisService;
    const bus = new RealtimeBus(redis);
    const coalescer = new WriteCoalescer(fail);
    await bus.subscribe(
      ({ frames }) =>
        frames.forEach((frame) => {
          coalescer.hold(socket);
          socket.emit('stream', frame.seq);
        }),
      () => undefined,
    );
    writes = countWrites(socket);
    const frame = (seq: number): StreamFrame => ({ event: 'e', channel: 'c', seq, timestamp: 't', payload: {} });

    // Two publishes in one turn: each reaches this instance's socket at once, Redis after the
    // socket's one write, and in the order they were published.
    await Promise.all([bus.publish({ frames: [frame(1), frame(2)] }), bus.publish({ frames: [frame(3)] })]);
    await expect.poll(() => received).toEqual([1, 2, 3]);
    expect(published.map((p) => p.writesBefore)).toEqual([1, 1]);
    expect(published.map((p) => JSON.parse(p.message.slice(p.message.indexOf(' ') + 1)) as unknown)).toEqual([
      { frames: [frame(1), frame(2)] },
      { frames: [frame(3)] },
    ]);
  });
});
