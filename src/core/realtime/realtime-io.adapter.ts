// The socket.io server of every API instance: path /ws/socket.io, websocket and polling, a bounded
// frame size, the lenient parser, and the Redis adapter that joins instances into one server (the
// sharded adapter, on Redis 7 sharded pub/sub, when Redis is a Cluster). It answers requests itself
// (gate, handler, envelope) in place of IoAdapter.bindMessageHandlers; realtime-io.adapter.spec.ts
// pins the IoAdapter methods it overrides and calls.
import type { INestApplicationContext } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import type { Subject } from 'rxjs';
import type { Namespace, Server, ServerOptions, Socket } from 'socket.io';
import { AppConfig } from '../config/app-config.js';
import { RedisService } from '../redis/redis.service.js';
import { lenientParser } from './lenient-parser.js';
import { PlainWebSockets } from './plain/plain-websockets.js';
import { RequestGate, type Admission } from './request-gate.js';
import {
  errorEnvelope,
  isRequestResult,
  successEnvelope,
  type ErrorEnvelope,
  type SuccessEnvelope,
} from './ws-envelope.js';
import { answer } from './ws-requests.js';
import { SOCKET_PATH } from './realtime.types.js';
import {
  addRoutes,
  routeOf,
  sharePerNamespace,
  type Route,
  type SharedHandlerBinder,
  type Transform,
} from './socket-handlers.js';

export class RealtimeIoAdapter extends IoAdapter implements SharedHandlerBinder {
  private transform?: Transform;
  private gate?: RequestGate;
  /** Requests of this instance being gated or handled now (a plain handler's until it returns). */
  private handling = 0;
  private readonly disconnects = new WeakMap<Namespace, Set<Subject<unknown>>>();

  constructor(private readonly app: INestApplicationContext) {
    super(app);
    sharePerNamespace();
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const config = this.app.get(AppConfig);
    const redis = this.app.get(RedisService);
    const origins = config.env.ALLOWED_ORIGINS;
    const server = super.createIOServer(port, {
      ...options,
      path: SOCKET_PATH,
      serveClient: false,
      transports: ['polling', 'websocket'],
      maxHttpBufferSize: config.env.WS_MAX_PAYLOAD,
      parser: lenientParser,
      // Upgrades of other paths are the plain WebSocket endpoints' (plain-websockets.ts).
      destroyUpgrade: false,
      cors: { origin: origins.length === 0 || origins.includes('*') ? true : origins, credentials: false },
    } as ServerOptions);
    this.app.get(PlainWebSockets, { strict: false }).attach(server);
    server.adapter(this.redisAdapter(redis));
    return server;
  }

  /**
   * Events reach sockets through the realtime bus and `nsp.local`; the adapter carries only what
   * spans instances inside socket.io (fetchSockets for the admin diagnostics). On a Cluster its
   * channels are sharded, and `static`: two per namespace (plus one per instance for answers),
   * where the default `dynamic` would subscribe a channel for every room (each user's channel).
   * ioredis 5.11's Cluster delivers `smessage` with `shardedSubscribers` (RedisService.duplicate),
   * which the adapter's README, older than that, says it cannot.
   */
  private redisAdapter(redis: RedisService): ServerOptions['adapter'] {
    if (redis.isCluster) {
      return createShardedAdapter(
        redis.duplicate('socket.io-pub'),
        redis.duplicate('socket.io-sub', { subscriber: true }),
        {
          channelPrefix: redis.key('socket.io'),
          subscriptionMode: 'static',
        },
      );
    }
    return createAdapter(redis.duplicate('socket.io-pub'), redis.duplicate('socket.io-sub'), {
      key: redis.key('socket.io'),
      requestsTimeout: 3000,
    });
  }

  /**
   * Nest's own version builds an rxjs pipeline per socket and handler (about 20 KB per idle socket
   * with five handlers), and binds each handler to each socket. Here the handlers are kept once per
   * namespace (socket-handlers.ts) and a socket has one catch-all listener, shared by all sockets,
   * which passes the request gate and calls the handler with the socket.
   */
  bindGateway(socket: Socket, handlers: MessageMappingProperties[], gateway: object, transform: Transform): void {
    this.transform ??= transform;
    if (!socket.listenersAny().includes(this.route)) socket.onAny(this.route);
    for (const event of addRoutes(socket, handlers, gateway)) {
      this.logger.error(`two gateways handle "${event}" on ${socket.nsp.name}; the first one wins`);
    }
  }

  /** Never used: handlers are shared (bindGateway); binding them per socket would skip the gate. */
  override bindMessageHandlers(): void {
    throw new Error('gateway handlers must be shared per namespace: sharePerNamespace() was not called');
  }

  /**
   * A gateway with handleDisconnect hears of every socket of its namespace that goes: the
   * namespace keeps the gateways' `disconnect` subjects, and a socket has one listener, shared by
   * all sockets, that tells them (socket-handlers.ts); nothing per socket and gateway.
   */
  bindDisconnects(client: Socket, disconnect: Subject<unknown>): void {
    let subjects = this.disconnects.get(client.nsp);
    if (!subjects) {
      subjects = new Set();
      this.disconnects.set(client.nsp, subjects);
    }
    subjects.add(disconnect);
    if (!client.listeners('disconnect').includes(this.notifyDisconnect)) {
      client.once('disconnect', this.notifyDisconnect);
    }
  }

  /** Never used: the gateways' disconnect subjects are shared per namespace (bindDisconnects). */
  override bindClientDisconnect(): void {
    throw new Error('disconnect handlers must be shared per namespace: sharePerNamespace() was not called');
  }

  private readonly notifyDisconnect = ((adapter: RealtimeIoAdapter) =>
    function (this: Socket, reason: unknown): void {
      for (const subject of adapter.disconnects.get(this.nsp) ?? []) subject.next({ client: this, reason });
    })(this);

  /** Every event of every socket with handlers (`this` is the socket); the gate answers the rest. */
  private readonly route = ((adapter: RealtimeIoAdapter) =>
    function (this: Socket, event: unknown, ...args: unknown[]): void {
      const name = String(event);
      const route = routeOf(this, name);
      if (route) void adapter.dispatch(this, name, route, args);
    })(this);

  /**
   * Gate, then handler. An @Enveloped() handler's `{message, data}` is answered with the success
   * envelope (its failures were answered by the gateway's exception filter already); any other
   * handler's result goes out as `{event, data}`, or on the ack. A @StartsWhileCounted() handler
   * of a request that arrives while the instance handles no other starts as soon as every check
   * but the rate limit's count has passed, and is answered once that too has.
   */
  private async dispatch(socket: Socket, event: string, route: Route, args: unknown[]): Promise<void> {
    if (!this.transform) return;
    this.gate ??= this.app.get(RequestGate, { strict: false });
    this.handling += 1;
    try {
      const admission = this.gate.admit(socket, event, args);
      // Only a request arriving alone starts early: under load the count's answer comes late (the
      // event loop is busy), and a transaction waiting for it would hold its lane and its locks.
      const early = route.early && route.enveloped && admission.counting && this.handling === 1;
      if (!early && !(await admission.admitted)) return;
      const mapped: { data: unknown; ack?: unknown } = this.mapPayload(args.length === 1 ? args[0] : args);
      const ack = typeof mapped.ack === 'function' ? (mapped.ack as (response: unknown) => void) : undefined;
      if (route.enveloped) {
        return await this.answerEnveloped(socket, event, route, mapped.data, ack, early ? admission : undefined);
      }
      this.transform(route.handler.call(route.gateway, socket, mapped.data, ack)).subscribe({
        next: (response) => this.answerPlain(socket, route, ack, response),
        error: (error: unknown) => this.logger.error(error),
      });
    } finally {
      this.handling -= 1;
    }
  }

  /**
   * Calls an @Enveloped() handler with a reply function in place of the client's ack, so that an
   * answer from the exception filter is seen here; answers with the envelope of what it returned.
   * With `admission` (an early start), the answer waits for its verdict, and a refused request
   * (answered by the gate) gets nothing more.
   */
  private async answerEnveloped(
    socket: Socket,
    event: string,
    route: Route,
    data: unknown,
    ack: ((response: unknown) => void) | undefined,
    admission?: Admission,
  ): Promise<void> {
    let answered = false;
    const reply = (envelope: unknown) => {
      answered = true;
      const send = () => answer(socket, ack, event, envelope as SuccessEnvelope | ErrorEnvelope);
      if (!admission) return send();
      void admission.admitted.then((ok) => ok && send());
    };
    try {
      const result: unknown = await route.handler.call(route.gateway, socket, data, reply, admission);
      if (answered) return;
      if (isRequestResult(result)) return reply(successEnvelope(result));
      this.logger.error({ request_type: event }, 'request handler did not return {message, data}');
    } catch (error) {
      // Only when the exception filter itself failed: Nest's proxy hands it every other error.
      this.logger.error({ err: error, request_type: event }, 'request failed outside its exception filter');
    }
    if (!answered) reply(errorEnvelope('INTERNAL', 'internal error'));
  }

  private answerPlain(socket: Socket, route: Route, ack: ((response: unknown) => void) | undefined, response: unknown) {
    if (response === undefined || response === null) return;
    const { event: name, data } = response as { event?: string; data?: unknown };
    if (name) socket.emit(name, data);
    else if (!route.manualAck && ack) ack(response);
  }
}
