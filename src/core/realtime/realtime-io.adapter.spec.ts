import 'reflect-metadata';
import { createServer } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsProxy } from '@nestjs/websockets/context/ws-proxy.js';
import { WsExceptionsHandler } from '@nestjs/websockets/exceptions/ws-exceptions-handler.js';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { AddressInfo } from 'node:net';
import { Server as SocketIoServer, type Server, type Socket } from 'socket.io';
import { io as connectClient } from 'socket.io-client';
import { from, isObservable, mergeMap, of, Subject } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DomainError } from '../errors/domain-error.js';
import { lenientParser } from './lenient-parser.js';
import { RealtimeIoAdapter } from './realtime-io.adapter.js';
import { RequestGate } from './request-gate.js';
import { Enveloped, StartsWhileCounted, WsExceptionFilter } from './ws-requests.js';

type Catch = (error: unknown, host: never) => void;

const filter = new WsExceptionFilter();
const filtered: Catch = (error, host) => filter.catch(error, host);
const failingFilter: Catch = () => {
  throw new Error('the filter failed');
};

/** A gateway handler as Nest wraps it: WsProxy, with the gateway's exception filter (`onError`). */
function wrapped(gateway: object, methodName: string, message: string, onError = filtered): MessageMappingProperties {
  const exceptions = new WsExceptionsHandler();
  exceptions.setCustomFilters([{ exceptionMetatypes: [], func: onError }] as never);
  const method = (gateway as Record<string, (...args: unknown[]) => unknown>)[methodName];
  const callback = new WsProxy().create(
    (...args: unknown[]) => Promise.resolve(method.call(gateway, ...args)),
    exceptions,
    message,
  );
  return { message, methodName, callback, isAckHandledManually: false };
}

@Enveloped()
class TestGateway {
  ok(_socket: unknown, data: unknown) {
    return Promise.resolve({ message: 'done', data });
  }
  refused() {
    return Promise.reject(new DomainError('INSUFFICIENT_BALANCE', 'insufficient balance'));
  }
  broken() {
    return Promise.resolve(42);
  }
}

/** A gateway whose exception filter fails too. */
@Enveloped()
class FilterlessGateway {
  fails() {
    return Promise.reject(new Error('boom'));
  }
}

class PlainGateway {
  events() {
    return of({ event: 'pong', data: { at: 1 } });
  }
}

/** Handlers that record what they were called with: one that may start while counted, one not. */
@Enveloped()
class CountedGateway {
  readonly calls: { event: string; admission: unknown }[] = [];
  @StartsWhileCounted()
  early(_socket: unknown, data: unknown, _reply: unknown, admission: unknown) {
    this.calls.push({ event: 'early', admission });
    return Promise.resolve({ message: 'early', data });
  }
  late(_socket: unknown, data: unknown, _reply: unknown, admission: unknown) {
    this.calls.push({ event: 'late', admission });
    return Promise.resolve({ message: 'late', data });
  }
}

const gateway = new TestGateway();
const plain = new PlainGateway();
const handlers = [
  wrapped(gateway, 'ok', 'ok'),
  wrapped(gateway, 'refused', 'refused'),
  wrapped(gateway, 'broken', 'broken'),
];

/** A socket of a namespace with the gateways bound; `send` plays a message arriving from the client. */
function fixture(admission = { counting: true, admitted: Promise.resolve(true) }) {
  const gate = { admit: () => admission };
  const app = { get: (token: unknown) => (token === RequestGate ? gate : undefined) };
  const adapter = new RealtimeIoAdapter(app as unknown as INestApplicationContext);
  const errors = vi.spyOn((adapter as unknown as { logger: { error: () => void } }).logger, 'error');
  errors.mockImplementation(() => undefined);
  let route: ((this: Socket, event: string, ...args: unknown[]) => void) | undefined;
  const socket = {
    id: 's1',
    nsp: {},
    data: {},
    emit: vi.fn(),
    listenersAny: () => (route ? [route] : []),
    onAny: (listener: typeof route) => {
      route = listener;
    },
  } as unknown as Socket;
  // As Nest's: the handler's promise, of a value or of an observable, as an observable.
  const transform = (result: unknown) =>
    from(Promise.resolve(result)).pipe(mergeMap((value) => (isObservable(value) ? value : of(value))));
  adapter.bindGateway(socket, handlers, gateway, transform);
  adapter.bindGateway(socket, [wrapped(plain, 'events', 'events')], plain, transform);
  const failing = new FilterlessGateway();
  adapter.bindGateway(socket, [wrapped(failing, 'fails', 'fails', failingFilter)], failing, transform);
  const counted = new CountedGateway();
  adapter.bindGateway(
    socket,
    [wrapped(counted, 'early', 'early'), wrapped(counted, 'late', 'late')],
    counted,
    transform,
  );
  const send = (event: string, ...args: unknown[]) => route!.call(socket, event, ...args);
  return { socket, send, errors, counted };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

afterEach(() => vi.restoreAllMocks());

describe('socket.io adapter: answers of @Enveloped() handlers', () => {
  it('answers {message, data} with the success envelope on the ack', async () => {
    const { send, socket } = fixture();
    const ack = vi.fn();
    send('ok', { amount: 1 }, ack);
    await settle();
    expect(ack).toHaveBeenCalledTimes(1);
    expect(ack.mock.calls[0][0]).toEqual({
      type: 'success',
      data: { message: 'done', data: { amount: 1 } },
      timestamp: expect.any(Number),
    });
    expect(socket.emit).not.toHaveBeenCalled();
  });

  it('answers as a `response` event naming the request when the client gave no ack', async () => {
    const { send, socket } = fixture();
    send('ok', { amount: 2 });
    await settle();
    expect(socket.emit).toHaveBeenCalledTimes(1);
    expect(socket.emit).toHaveBeenCalledWith('response', {
      type: 'success',
      data: { message: 'done', data: { amount: 2 } },
      timestamp: expect.any(Number),
      request_type: 'ok',
    });
  });

  it('answers a failure once, with the error envelope of the exception filter', async () => {
    const { send, socket } = fixture();
    const ack = vi.fn();
    send('refused', {}, ack);
    send('refused', {});
    await settle();
    expect(ack).toHaveBeenCalledTimes(1);
    expect(ack.mock.calls[0][0]).toMatchObject({
      type: 'error',
      data: { code: 'INSUFFICIENT_BALANCE', message: 'insufficient balance' },
    });
    expect(socket.emit).toHaveBeenCalledTimes(1);
    expect(socket.emit).toHaveBeenCalledWith(
      'response',
      expect.objectContaining({ type: 'error', request_type: 'refused' }),
    );
  });

  it('answers INTERNAL, and logs, when a handler returns something other than {message, data}', async () => {
    const { send, errors } = fixture();
    const ack = vi.fn();
    send('broken', {}, ack);
    await settle();
    expect(ack).toHaveBeenCalledTimes(1);
    expect(ack.mock.calls[0][0]).toMatchObject({
      type: 'error',
      data: { code: 'INTERNAL', message: 'internal error' },
    });
    expect(errors).toHaveBeenCalledWith({ request_type: 'broken' }, 'request handler did not return {message, data}');
  });

  it('answers INTERNAL when the exception filter itself fails, and nothing escapes', async () => {
    const { send, errors } = fixture();
    const ack = vi.fn();
    send('fails', {}, ack);
    await settle();
    expect(ack).toHaveBeenCalledTimes(1);
    expect(ack.mock.calls[0][0]).toMatchObject({ type: 'error', data: { code: 'INTERNAL' } });
    expect(errors).toHaveBeenCalledWith(
      expect.objectContaining({ request_type: 'fails' }),
      'request failed outside its exception filter',
    );
  });

  it('still emits the `{event, data}` results of a handler that is not enveloped', async () => {
    const { send, socket } = fixture();
    send('events', {});
    await settle();
    expect(socket.emit).toHaveBeenCalledWith('pong', { at: 1 });
  });
});

describe('socket.io adapter: disconnects', () => {
  it('tells every gateway subject of the namespace once when a socket goes, with one listener per socket', async () => {
    const http = createServer();
    const io = new SocketIoServer(http);
    const adapter = new RealtimeIoAdapter({ get: () => undefined } as unknown as INestApplicationContext);
    const [first, second] = [new Subject<unknown>(), new Subject<unknown>()];
    const heard: unknown[] = [];
    first.subscribe((event) => heard.push(['first', event]));
    second.subscribe((event) => heard.push(['second', event]));
    const arrived = new Promise<Socket>((resolve) =>
      io.of('/user').on('connection', (socket) => {
        adapter.bindDisconnects(socket, first);
        adapter.bindDisconnects(socket, second);
        resolve(socket);
      }),
    );
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const client = connectClient(`http://127.0.0.1:${(http.address() as AddressInfo).port}/user`, {
      transports: ['websocket'],
    });
    try {
      const socket = await arrived;
      expect(socket.listeners('disconnect')).toHaveLength(1);
      client.disconnect();
      await expect.poll(() => heard.length).toBe(2);
      expect(heard).toEqual([
        ['first', { client: socket, reason: 'transport close' }],
        ['second', { client: socket, reason: 'transport close' }],
      ]);
    } finally {
      client.close();
      await io.close();
    }
  });
});

// RealtimeIoAdapter answers requests itself (dispatch, answerEnveloped) instead of through Nest's
// bindMessageHandlers, which it overrides to throw. These pin the @nestjs/platform-socket.io 12.1
// IoAdapter it extends: if an upgrade renames what it overrides or changes what it calls, they
// fail here (the WsProxy path of an @Enveloped() failure is pinned by the tests above).
describe('the IoAdapter internals RealtimeIoAdapter overrides or calls', () => {
  type Methods = Record<string, ((...args: unknown[]) => unknown) | undefined>;
  const base = IoAdapter.prototype as unknown as Methods;

  it('still has the methods it overrides, with their parameters', () => {
    expect(base.bindMessageHandlers?.length).toBe(3); // overridden to throw: handlers are shared
    expect(base.bindClientDisconnect?.length).toBe(2);
    expect(base.createIOServer?.length).toBe(2);
    const ours = RealtimeIoAdapter.prototype as unknown as Methods;
    for (const name of ['bindMessageHandlers', 'bindClientDisconnect', 'createIOServer']) {
      expect(Object.hasOwn(ours, name)).toBe(true); // ours replaces the method Nest calls
    }
  });

  it('maps a socket.io payload to {data, ack} as dispatch expects', () => {
    const adapter = new IoAdapter();
    const ack = () => undefined;
    expect(adapter.mapPayload({ a: 1 })).toEqual({ data: { a: 1 } });
    expect(adapter.mapPayload([{ a: 1 }, ack])).toEqual({ data: { a: 1 }, ack });
    expect(adapter.mapPayload(ack)).toEqual({ data: undefined, ack });
  });

  it('keeps a logger that dispatch reports to', () => {
    const logger = (new IoAdapter() as unknown as { logger?: { error?: unknown } }).logger;
    expect(typeof logger?.error).toBe('function');
  });

  it('hands createIOServer’s options to socket.io, so the lenient parser encodes and decodes', async () => {
    const http = createServer();
    const io = (base.createIOServer as (port: number, options: object) => Server).call({ httpServer: http }, 0, {
      path: '/probe/socket.io',
      parser: lenientParser,
    });
    try {
      expect(io.path()).toBe('/probe/socket.io');
      expect((io as unknown as { encoder: unknown }).encoder).toBeInstanceOf(lenientParser.Encoder);
    } finally {
      await io.close();
    }
  });
});

describe('socket.io adapter: handlers that start while their request is counted', () => {
  const counting = () => {
    let decide!: (admitted: boolean) => void;
    const admitted = new Promise<boolean>((resolve) => (decide = resolve));
    return { admission: { counting: true, admitted }, decide };
  };

  it('starts one before the count answers, hands it the admission, and answers once admitted', async () => {
    const { admission, decide } = counting();
    const { send, counted } = fixture(admission);
    const ack = vi.fn();
    send('early', { amount: 1 }, ack);
    await settle();
    expect(counted.calls).toEqual([{ event: 'early', admission }]);
    expect(ack).not.toHaveBeenCalled();
    decide(true);
    await settle();
    expect(ack).toHaveBeenCalledTimes(1);
    expect(ack.mock.calls[0][0]).toMatchObject({ type: 'success', data: { message: 'early' } });
  });

  it('gives a refused one no answer of its own (the gate answered the refusal)', async () => {
    const { admission, decide } = counting();
    const { send, socket, counted } = fixture(admission);
    const ack = vi.fn();
    send('early', {}, ack);
    decide(false);
    await settle();
    expect(counted.calls).toHaveLength(1);
    expect(ack).not.toHaveBeenCalled();
    expect(socket.emit).not.toHaveBeenCalled();
  });

  it('starts one that arrives while another request is in hand only once admitted', async () => {
    const { admission, decide } = counting();
    const { send, counted } = fixture(admission);
    const acks = [vi.fn(), vi.fn()];
    send('early', { n: 1 }, acks[0]);
    send('early', { n: 2 }, acks[1]);
    await settle();
    expect(counted.calls).toEqual([{ event: 'early', admission }]);
    decide(true);
    await settle();
    expect(counted.calls).toEqual([
      { event: 'early', admission },
      { event: 'early', admission: undefined },
    ]);
    expect(acks[0]).toHaveBeenCalledTimes(1);
    expect(acks[1]).toHaveBeenCalledTimes(1);
  });

  it('starts any other handler only once admitted, and one whose other checks failed not at all', async () => {
    const { admission, decide } = counting();
    const { send, counted } = fixture(admission);
    send('late', {}, vi.fn());
    await settle();
    expect(counted.calls).toEqual([]);
    decide(true);
    await settle();
    expect(counted.calls).toEqual([{ event: 'late', admission: undefined }]);

    const refused = fixture({ counting: false, admitted: Promise.resolve(false) });
    refused.send('early', 'not an object', vi.fn());
    await settle();
    expect(refused.counted.calls).toEqual([]);
  });
});
