// Request handlers shared by all the sockets of a namespace. Nest binds every handler of every
// gateway to every socket as it connects (`callback.bind(gateway, socket)`), which costs each idle
// socket memory for every request type there is. The handlers do not differ between the sockets of
// a namespace, so they are kept once per namespace instead, and called with the socket when a
// request arrives: a new request type costs idle sockets nothing.
//
// Nest offers no hook for this: `sharePerNamespace()` replaces WebSocketsController's
// `subscribeMessages` (public in its typings, @nestjs/websockets 12) so that it hands the adapter
// the gateway's handlers once, unbound, and `getConnectionHandler` so that a gateway without
// handleDisconnect costs a socket nothing either. It fails loudly rather than fall back to
// per-socket binding; socket-handlers.spec.ts pins the Nest internals it replaces.
import type { MessageMappingProperties } from '@nestjs/websockets';
import { WebSocketsController } from '@nestjs/websockets/web-sockets-controller.js';
import { from, mergeAll, type Observable, type Subject } from 'rxjs';
import type { Namespace, Socket } from 'socket.io';

/**
 * A gateway method as Nest wraps it (guards, pipes, interceptors, filters): (socket, data, ack), and
 * for a handler that starts while its request is counted, its admission (@WsAdmission()).
 */
type GatewayHandler = (
  this: object,
  socket: Socket,
  data: unknown,
  ack?: (response: unknown) => void,
  admission?: { admitted: Promise<boolean> },
) => unknown;

export interface Route {
  gateway: object;
  handler: GatewayHandler;
  /** The handler answers through the ack itself (@Ack()). */
  manualAck: boolean;
  /** The handler returns `{message, data}`, answered with the success envelope (@Enveloped()). */
  enveloped: boolean;
  /** The handler may start while the request's rate limit is counted (@StartsWhileCounted()). */
  early: boolean;
}

/** Metadata key of @Enveloped() (ws-requests.ts), on a gateway class or a handler method. */
export const ENVELOPED = 'cashier:ws-enveloped';

/** Metadata key of @StartsWhileCounted() (ws-requests.ts), on a handler method. */
export const STARTS_WHILE_COUNTED = 'cashier:ws-starts-while-counted';

const isEnveloped = (gateway: object, methodName: string): boolean => {
  const method = (gateway as Record<string, unknown>)[methodName];
  return (
    (typeof method === 'function' && Reflect.getMetadata(ENVELOPED, method) === true) ||
    Reflect.getMetadata(ENVELOPED, gateway.constructor) === true
  );
};

const startsWhileCounted = (gateway: object, methodName: string): boolean => {
  const method = (gateway as Record<string, unknown>)[methodName];
  return typeof method === 'function' && Reflect.getMetadata(STARTS_WHILE_COUNTED, method) === true;
};

export type Transform = (result: unknown) => Observable<unknown>;

interface IoAdapterHooks {
  bindDisconnects?(client: unknown, disconnect: Subject<unknown>): void;
}

/** What the socket.io adapter implements to receive a gateway's handlers. */
export interface SharedHandlerBinder {
  bindGateway(socket: Socket, handlers: MessageMappingProperties[], gateway: object, transform: Transform): void;
}

const routes = new WeakMap<Namespace, Map<string, Route>>();
const registered = new WeakMap<Namespace, WeakSet<object>>();

/**
 * Adds `gateway`'s handlers to the routes of `socket`'s namespace (once per gateway); returns the
 * events another gateway of the namespace handles already (the first one keeps them).
 */
export function addRoutes(socket: Socket, handlers: MessageMappingProperties[], gateway: object): string[] {
  const nsp = socket.nsp;
  const done = registered.get(nsp) ?? new WeakSet<object>();
  registered.set(nsp, done);
  if (done.has(gateway)) return [];
  done.add(gateway);
  const table = routes.get(nsp) ?? new Map<string, Route>();
  routes.set(nsp, table);
  const doubled: string[] = [];
  for (const { message, methodName, callback, isAckHandledManually } of handlers) {
    const event = String(message);
    if (table.has(event)) doubled.push(event);
    else {
      table.set(event, {
        gateway,
        handler: callback as GatewayHandler,
        manualAck: isAckHandledManually,
        enveloped: isEnveloped(gateway, methodName),
        early: startsWhileCounted(gateway, methodName),
      });
    }
  }
  return doubled;
}

export function routeOf(socket: Socket, event: string): Route | undefined {
  return routes.get(socket.nsp)?.get(event);
}

type Subscribe = (
  this: WebSocketsController,
  handlers: MessageMappingProperties[],
  client: unknown,
  gateway: object,
) => void;

type ConnectionHandlerFactory = (
  this: WebSocketsController,
  context: WebSocketsController,
  gateway: object,
  handlers: MessageMappingProperties[],
  disconnect: Subject<unknown>,
  connection: Subject<unknown[]>,
) => (...args: unknown[]) => void;

let shared = false;

/** Makes Nest hand each gateway's handlers to the adapter unbound (see the top of this file). */
export function sharePerNamespace(): void {
  if (shared) return;
  const proto = WebSocketsController.prototype as unknown as {
    subscribeMessages?: Subscribe;
    getConnectionHandler?: ConnectionHandlerFactory;
    pickResult?: (result: unknown) => Promise<Observable<unknown>>;
    config?: unknown;
  };
  if (
    typeof proto.subscribeMessages !== 'function' ||
    typeof proto.getConnectionHandler !== 'function' ||
    typeof proto.pickResult !== 'function'
  ) {
    throw new Error(
      '@nestjs/websockets changed: WebSocketsController.subscribeMessages/getConnectionHandler/pickResult are gone',
    );
  }
  const transforms = new WeakMap<WebSocketsController, Transform>();
  proto.subscribeMessages = function (this: WebSocketsController, handlers, client, gateway) {
    const self = this as unknown as {
      config: { getIoAdapter(): Partial<SharedHandlerBinder> };
      pickResult(result: unknown): Promise<Observable<unknown>>;
    };
    const adapter = self.config.getIoAdapter();
    if (typeof adapter.bindGateway !== 'function') {
      throw new Error('the socket.io adapter cannot take shared handlers (bindGateway)');
    }
    let transform = transforms.get(this);
    if (!transform) {
      transform = (result) => fromPromiseMerged(self.pickResult(result));
      transforms.set(this, transform);
    }
    adapter.bindGateway(client as Socket, handlers, gateway, transform);
  };
  // Nest's connection handler, except that the adapter is handed the gateway's `disconnect` subject
  // rather than a closure per socket (the adapter tells the subjects of the socket's namespace when
  // it goes, with `{client, reason}` as Nest would), and only when a gateway has handleDisconnect
  // (someone observes the subject).
  proto.getConnectionHandler = function (
    this: WebSocketsController,
    context,
    gateway,
    handlers,
    disconnect,
    connection,
  ) {
    const adapter = (this as unknown as { config: { getIoAdapter(): IoAdapterHooks } }).config.getIoAdapter();
    return (...args: unknown[]) => {
      const [client] = args;
      connection.next(args);
      context.subscribeMessages(handlers, client, gateway);
      if (disconnect.observed) adapter.bindDisconnects?.(client, disconnect);
    };
  };
  shared = true;
}

// Nest's own transform: `fromPromise(pickResult(data)).pipe(mergeAll())`.
const fromPromiseMerged = (picked: Promise<Observable<unknown>>): Observable<unknown> => from(picked).pipe(mergeAll());
