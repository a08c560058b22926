// socket.io clients for tests: every received event is recorded, and waiting for one is a promise.
import { io, type Socket } from 'socket.io-client';

export interface Received {
  event: string;
  args: unknown[];
}

export interface TestSocket {
  socket: Socket;
  received: Received[];
  /** `stream` frames in arrival order. */
  frames(): { event: string; channel: string; seq: number; payload: any }[];
  waitFor(event: string, predicate?: (data: any) => boolean, timeoutMs?: number): Promise<any>;
  close(): void;
}

export interface ConnectOptions {
  token?: string;
  apiKey?: string;
  since?: number;
  namespace?: '/user' | '/public';
  transports?: ('websocket' | 'polling')[];
  extraHeaders?: Record<string, string>;
  query?: Record<string, string>;
  /** Reconnect automatically (default false). */
  reconnection?: boolean;
}

function open(baseUrl: string, options: ConnectOptions): Socket {
  const auth: Record<string, unknown> = {};
  if (options.token) auth.token = options.token;
  if (options.apiKey) auth.apiKey = options.apiKey;
  if (options.since !== undefined) auth.since = options.since;
  return io(`${baseUrl}${options.namespace ?? '/user'}`, {
    path: '/ws/socket.io',
    transports: options.transports ?? ['websocket'],
    auth,
    extraHeaders: options.extraHeaders,
    query: options.query,
    reconnection: options.reconnection ?? false,
    forceNew: true,
  });
}

function record(socket: Socket): TestSocket {
  const received: Received[] = [];
  const waiters: { event: string; predicate: (d: any) => boolean; resolve: (d: any) => void }[] = [];
  socket.onAny((event: string, ...args: unknown[]) => {
    received.push({ event, args });
    for (const waiter of [...waiters]) {
      if (waiter.event === event && waiter.predicate(args[0])) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(args[0]);
      }
    }
  });
  socket.on('disconnect', (reason) => {
    received.push({ event: 'disconnect', args: [reason] });
    for (const waiter of [...waiters]) {
      if (waiter.event === 'disconnect') {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(reason);
      }
    }
  });
  return {
    socket,
    received,
    frames: () => received.filter((r) => r.event === 'stream').map((r) => r.args[0] as any),
    waitFor(event, predicate = () => true, timeoutMs = 5000) {
      const seen = received.find((r) => r.event === event && predicate(r.args[0]));
      if (seen) return Promise.resolve(seen.args[0]);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${event} within ${timeoutMs} ms; got ${received.map((r) => r.event).join(', ')}`)),
          timeoutMs,
        );
        waiters.push({ event, predicate, resolve: (d) => (clearTimeout(timer), resolve(d)) });
      });
    },
    close: () => socket.close(),
  };
}

/** Connects and resolves once connected (rejects with the connect_error otherwise). */
export async function connect(baseUrl: string, options: ConnectOptions = {}): Promise<TestSocket> {
  const socket = open(baseUrl, options);
  const recorded = record(socket);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('not connected within 5 s')), 5000);
    socket.once('connect', () => (clearTimeout(timer), resolve()));
    socket.once('connect_error', (error) => (clearTimeout(timer), reject(error)));
  });
  return recorded;
}

/** Connects and waits for the `connected` event too. */
export async function connectUser(baseUrl: string, options: ConnectOptions = {}): Promise<TestSocket> {
  const recorded = await connect(baseUrl, options);
  await recorded.waitFor('connected');
  return recorded;
}

/** Expects the handshake to be refused; resolves to the connect_error's message and data. */
export async function refusedConnect(
  baseUrl: string,
  options: ConnectOptions = {},
): Promise<{ message: string; data: any }> {
  const socket = open(baseUrl, options);
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('neither connected nor refused within 5 s')), 5000);
      socket.once('connect', () => reject(new Error('connected but should have been refused')));
      socket.once('connect_error', (error: Error & { data?: unknown }) => {
        clearTimeout(timer);
        resolve({ message: error.message, data: error.data });
      });
    });
  } finally {
    socket.close();
  }
}
