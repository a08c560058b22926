import 'reflect-metadata';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { WebSocketsController } from '@nestjs/websockets/web-sockets-controller.js';
import type { Socket } from 'socket.io';
import { Subject } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { addRoutes, routeOf, sharePerNamespace } from './socket-handlers.js';
import { Enveloped } from './ws-requests.js';

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
    expect(route).toEqual({ gateway, handler: handlers[0].callback, manualAck: false, enveloped: false });
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

  it('binds a disconnect callback per socket only for gateways that handle disconnects', () => {
    sharePerNamespace();
    const bindClientDisconnect = vi.fn();
    const bindGateway = vi.fn();
    const controller = Object.create(WebSocketsController.prototype) as WebSocketsController;
    Object.assign(controller, { config: { getIoAdapter: () => ({ bindGateway, bindClientDisconnect }) } });
    const connect = (disconnect: Subject<unknown>) =>
      controller.getConnectionHandler(controller, {}, [], disconnect as never, new Subject() as never);
    const socket = socketIn({});

    connect(new Subject())(socket);
    expect(bindGateway).toHaveBeenCalledTimes(1);
    expect(bindClientDisconnect).not.toHaveBeenCalled();

    const observed = new Subject<unknown>();
    const seen: unknown[] = [];
    observed.subscribe((event) => seen.push(event));
    connect(observed)(socket);
    expect(bindClientDisconnect).toHaveBeenCalledTimes(1);
    (bindClientDisconnect.mock.calls[0][1] as (reason: unknown) => void)('transport close');
    expect(seen).toEqual([{ client: socket, reason: 'transport close' }]);
  });
});
