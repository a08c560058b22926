import 'reflect-metadata';
import { MetadataScanner } from '@nestjs/core';
import { SubscribeMessage, type MessageMappingProperties } from '@nestjs/websockets';
import { GatewayMetadataExplorer } from '@nestjs/websockets/gateway-metadata-explorer.js';
import { WebSocketsController } from '@nestjs/websockets/web-sockets-controller.js';
import type { Socket } from 'socket.io';
import { firstValueFrom, of, Subject, type Observable } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { addRoutes, routeOf, sharePerNamespace } from './socket-handlers.js';
import { Enveloped, StartsWhileCounted } from './ws-requests.js';

// Nest's own methods, taken before any test calls sharePerNamespace() (each spec file has its own
// module instances, so no other file's patch is seen here).
type Proto = Record<string, (...args: unknown[]) => unknown>;
const nest: Proto = Object.fromEntries(
  Object.getOwnPropertyNames(WebSocketsController.prototype).map((name) => [
    name,
    (WebSocketsController.prototype as unknown as Proto)[name],
  ]),
);

const socketIn = (nsp: object) => ({ nsp }) as unknown as Socket;
const handler = (message: string, isAckHandledManually = false): MessageMappingProperties => ({
  message,
  methodName: message,
  callback: vi.fn(),
  isAckHandledManually,
});

describe('handlers shared per namespace', () => {
  it('keeps a gateway’s handlers once per namespace, for every socket in it', () => {
    const user = {};
    const other = {};
    const gateway = {};
    const handlers = [handler('transfer'), handler('refresh', true)];
    expect(addRoutes(socketIn(user), handlers, gateway)).toEqual([]);
    expect(addRoutes(socketIn(user), [handler('transfer')], gateway)).toEqual([]); // same gateway: ignored

    const route = routeOf(socketIn(user), 'transfer');
    expect(route).toEqual({ gateway, handler: handlers[0].callback, manualAck: false, enveloped: false, early: false });
    expect(routeOf(socketIn(user), 'refresh')?.manualAck).toBe(true);
    expect(routeOf(socketIn(other), 'transfer')).toBeUndefined();
    expect(routeOf(socketIn(user), 'unknown')).toBeUndefined();
  });

  it('marks the handlers of an @Enveloped() gateway, or a single @Enveloped() handler', () => {
    @Enveloped()
    class Whole {
      transfer(): void {}
    }
    class One {
      @Enveloped()
      refresh(): void {}
      channel(): void {}
    }
    const nsp = {};
    addRoutes(socketIn(nsp), [handler('transfer')], new Whole());
    addRoutes(socketIn(nsp), [handler('refresh'), handler('channel')], new One());
    expect(routeOf(socketIn(nsp), 'transfer')?.enveloped).toBe(true);
    expect(routeOf(socketIn(nsp), 'refresh')?.enveloped).toBe(true);
    expect(routeOf(socketIn(nsp), 'channel')?.enveloped).toBe(false);
  });

  it('marks the handlers that may start while their request is counted, and only those', () => {
    @Enveloped()
    class Transfers {
      @StartsWhileCounted()
      transfer(): void {}
      history(): void {}
    }
    const nsp = {};
    addRoutes(socketIn(nsp), [handler('transfer'), handler('history')], new Transfers());
    expect(routeOf(socketIn(nsp), 'transfer')?.early).toBe(true);
    expect(routeOf(socketIn(nsp), 'history')?.early).toBe(false);
  });

  it('reports an event a second gateway also handles, and keeps the first', () => {
    const nsp = {};
    const first = [handler('channel')];
    addRoutes(socketIn(nsp), first, {});
    expect(addRoutes(socketIn(nsp), [handler('channel'), handler('leave')], {})).toEqual(['channel']);
    expect(routeOf(socketIn(nsp), 'channel')?.handler).toBe(first[0].callback);
  });

  it('makes Nest hand the adapter each gateway’s handlers unbound', () => {
    sharePerNamespace();
    const bindGateway = vi.fn();
    const controller = Object.create(WebSocketsController.prototype) as WebSocketsController;
    Object.assign(controller, { config: { getIoAdapter: () => ({ bindGateway }) } });
    const handlers = [handler('transfer')];
    const gateway = {};
    const socket = socketIn({});
    controller.subscribeMessages(handlers, socket, gateway);
    expect(bindGateway).toHaveBeenCalledWith(socket, handlers, gateway, expect.any(Function));
    expect(bindGateway.mock.calls[0][1][0].callback).toBe(handlers[0].callback);
  });

  it('hands the adapter the disconnect subject only of gateways that handle disconnects', () => {
    sharePerNamespace();
    const bindDisconnects = vi.fn();
    const bindGateway = vi.fn();
    const controller = Object.create(WebSocketsController.prototype) as WebSocketsController;
    Object.assign(controller, { config: { getIoAdapter: () => ({ bindGateway, bindDisconnects }) } });
    const connect = (disconnect: Subject<unknown>) =>
      controller.getConnectionHandler(controller, {}, [], disconnect as never, new Subject() as never);
    const socket = socketIn({});

    connect(new Subject())(socket);
    expect(bindGateway).toHaveBeenCalledTimes(1);
    expect(bindDisconnects).not.toHaveBeenCalled();

    const observed = new Subject<unknown>();
    observed.subscribe(() => undefined);
    connect(observed)(socket);
    expect(bindDisconnects).toHaveBeenCalledTimes(1);
    expect(bindDisconnects).toHaveBeenCalledWith(socket, observed);
  });
});

// sharePerNamespace() replaces two methods of Nest's WebSocketsController and calls a third. These
// pin what it was written against (@nestjs/websockets 12.1): if an upgrade changes any of it,
// they fail here, and socket-handlers.ts must be brought in line before the upgrade goes in.
describe('the @nestjs/websockets internals that sharePerNamespace() replaces', () => {
  /** A controller whose config hands out `adapter`, made by Nest's own constructor. */
  const controllerWith = (adapter: object) =>
    new (WebSocketsController as unknown as new (...args: unknown[]) => WebSocketsController)(
      {},
      { getIoAdapter: () => adapter },
      {},
      {},
      {},
      {},
      {},
    );

  it('has the methods, with the parameters, that the patch replaces or calls', () => {
    expect(typeof nest.subscribeMessages).toBe('function');
    expect(nest.subscribeMessages.length).toBe(3); // (handlers, client, instance)
    expect(typeof nest.getConnectionHandler).toBe('function');
    expect(nest.getConnectionHandler.length).toBe(5); // (context, instance, handlers, disconnect, connection)
    expect(typeof nest.pickResult).toBe('function');
    expect(nest.pickResult.length).toBe(1);
  });

  it('keeps the application config, which hands out the adapter, as `config`', () => {
    const adapter = {};
    const controller = controllerWith(adapter) as unknown as { config: { getIoAdapter(): unknown } };
    expect(controller.config.getIoAdapter()).toBe(adapter);
  });

  it('builds each gateway’s connection handler through getConnectionHandler, looked up on the instance', () => {
    const bindClientConnect = vi.fn();
    const controller = controllerWith({ bindClientConnect }) as unknown as Proto;
    const built = () => undefined;
    const getConnectionHandler = vi.fn(() => built);
    Object.assign(controller, {
      getConnectionHandler,
      subscribeInitEvent: vi.fn(),
      subscribeConnectionEvent: vi.fn(),
      subscribeDisconnectEvent: vi.fn(),
      printSubscriptionLogs: vi.fn(),
    });
    const instance = {};
    const handlers = [handler('transfer')];
    const server = {};
    const [disconnect, connection] = [new Subject(), new Subject()];
    nest.subscribeEvents.call(controller, { instance }, handlers, {
      init: new Subject(),
      disconnect,
      connection,
      server,
    });
    expect(getConnectionHandler).toHaveBeenCalledWith(controller, instance, handlers, disconnect, connection);
    expect(bindClientConnect).toHaveBeenCalledWith(server, built);
  });

  it('connects a client as the replacement does: connection event, subscribeMessages, a disconnect callback', () => {
    const bindClientDisconnect = vi.fn();
    const controller = controllerWith({ bindClientDisconnect });
    const subscribeMessages = vi.fn();
    const context = { subscribeMessages };
    const instance = {};
    const handlers = [handler('transfer')];
    const disconnect = new Subject<unknown>();
    const connection = new Subject<unknown[]>();
    const connected: unknown[][] = [];
    connection.subscribe((args) => connected.push(args));
    const client = socketIn({});
    const connect = nest.getConnectionHandler.call(controller, context, instance, handlers, disconnect, connection);
    (connect as (...args: unknown[]) => void)(client, 'request');
    expect(connected).toEqual([[client, 'request']]);
    expect(subscribeMessages).toHaveBeenCalledWith(handlers, client, instance);
    expect(bindClientDisconnect).toHaveBeenCalledTimes(1);
    expect(bindClientDisconnect.mock.calls[0][0]).toBe(client);
  });

  it('subscribes a client by binding every handler to it and calling the adapter’s bindMessageHandlers', async () => {
    const bindMessageHandlers = vi.fn();
    const controller = controllerWith({ bindMessageHandlers });
    const callback = vi.fn((_client: unknown, data: unknown) => data);
    const client = socketIn({});
    const instance = {};
    nest.subscribeMessages.call(
      controller,
      [{ message: 'transfer', callback, isAckHandledManually: false }],
      client,
      instance,
    );
    expect(bindMessageHandlers).toHaveBeenCalledTimes(1);
    const [boundClient, bound, transform] = bindMessageHandlers.mock.calls[0] as [
      unknown,
      { message: string; callback: (data: unknown) => unknown; isAckHandledManually: boolean }[],
      (result: unknown) => Observable<unknown>,
    ];
    expect(boundClient).toBe(client);
    expect(bound).toEqual([{ message: 'transfer', callback: expect.any(Function), isAckHandledManually: false }]);
    bound[0].callback({ amount: 1 }); // bound to (instance, client): only the data is left
    expect(callback).toHaveBeenCalledWith(client, { amount: 1 });
    expect(callback.mock.contexts[0]).toBe(instance);
    // The transform the replacement passes on: a handler's value, promise or observable as an observable.
    expect(await firstValueFrom(transform(Promise.resolve(7)))).toBe(7);
    expect(await firstValueFrom(transform(Promise.resolve(of(8))))).toBe(8);
  });

  it('describes each handler with the fields addRoutes reads', () => {
    class Gateway {
      @SubscribeMessage('transfer')
      transfer(): void {}
    }
    const [found] = new GatewayMetadataExplorer(new MetadataScanner()).explore(new Gateway() as never);
    expect(Object.keys(found).sort()).toEqual(['callback', 'isAckHandledManually', 'message', 'methodName']);
    expect(found).toMatchObject({ message: 'transfer', methodName: 'transfer', isAckHandledManually: false });
  });
});
