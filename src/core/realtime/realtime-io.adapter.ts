// The socket.io server of every API instance: path /ws/socket.io, websocket and polling, a bounded
// frame size, the lenient parser, and the Redis adapter that joins instances into one server.
import type { INestApplicationContext } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Server, ServerOptions, Socket } from 'socket.io';
import { AppConfig } from '../config/app-config.js';
import { RedisService } from '../redis/redis.service.js';
import { lenientParser } from './lenient-parser.js';
import { RequestGate } from './request-gate.js';
import { SOCKET_PATH } from './realtime.types.js';

const HANDLERS = Symbol('realtime:handlers');
const DISCONNECTS = Symbol('realtime:disconnects');

type BoundCallback = (data: unknown, ack?: (response: unknown) => void) => unknown;
type Transform = (data: unknown) => Observable<unknown>;

type HandlerHolder = Socket & {
  /** [event, handler, event, handler, ...]: lighter than a Map on every socket. */
  [HANDLERS]?: (string | BoundCallback)[];
  [DISCONNECTS]?: ((reason: unknown) => void)[];
};

export class RealtimeIoAdapter extends IoAdapter {
  private readonly listeners = new Map<string, (this: Socket, ...args: unknown[]) => void>();
  private readonly manualAck = new Set<string>();
  private transform?: Transform;
  private gate?: RequestGate;

  constructor(private readonly app: INestApplicationContext) {
    super(app);
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
      cors: { origin: origins.length === 0 || origins.includes('*') ? true : origins, credentials: false },
    } as ServerOptions);
    server.adapter(
      createAdapter(redis.duplicate('socket.io-pub'), redis.duplicate('socket.io-sub'), {
        key: redis.key('socket.io'),
        requestsTimeout: 3000,
      }),
    );
    return server;
  }

  /**
   * Nest binds, for every socket, every handler of every gateway: its own version builds an rxjs
   * pipeline per socket and handler (about 20 KB per idle socket with five handlers). Here a
   * socket keeps only its bound handlers; one listener per event name, shared by all sockets,
   * passes the request gate and calls them. (Nest's `transform` is the same for every gateway and
   * socket, so one is kept.)
   */
  override bindMessageHandlers(socket: Socket, handlers: MessageMappingProperties[], transform: Transform): void {
    this.transform ??= transform;
    const table = ((socket as HandlerHolder)[HANDLERS] ??= []);
    for (const { message, callback, isAckHandledManually } of handlers) {
      const event = String(message);
      if (handlerOf(socket, event)) {
        this.logger.error(`two gateways handle "${event}" on ${socket.nsp.name}; the first one wins`);
        continue;
      }
      if (isAckHandledManually) this.manualAck.add(event);
      table.push(event, callback as BoundCallback);
      socket.on(event, this.listenerFor(event));
    }
  }

  /** One `disconnect` listener per socket for all the gateways' callbacks. */
  override bindClientDisconnect(client: Socket, callback: (reason: unknown) => void): void {
    const holder = client as HandlerHolder;
    if (!holder[DISCONNECTS]) {
      holder[DISCONNECTS] = [];
      client.once('disconnect', notifyDisconnect);
    }
    holder[DISCONNECTS].push(callback);
  }

  private listenerFor(event: string): (this: Socket, ...args: unknown[]) => void {
    let listener = this.listeners.get(event);
    if (!listener) {
      const dispatch = (socket: Socket, args: unknown[]) => void this.dispatch(socket, event, args);
      listener = function (this: Socket, ...args: unknown[]) {
        dispatch(this, args);
      };
      this.listeners.set(event, listener);
    }
    return listener;
  }

  /** Gate, then handler; emits `{event, data}` results, answers the ack with anything else. */
  private async dispatch(socket: Socket, event: string, args: unknown[]): Promise<void> {
    const callback = handlerOf(socket, event);
    if (!callback || !this.transform) return;
    this.gate ??= this.app.get(RequestGate, { strict: false });
    if (!(await this.gate.admit(socket, event, args))) return;
    const mapped: { data: unknown; ack?: unknown } = this.mapPayload(args.length === 1 ? args[0] : args);
    const ack = typeof mapped.ack === 'function' ? (mapped.ack as (response: unknown) => void) : undefined;
    this.transform(callback(mapped.data, ack)).subscribe({
      next: (response) => {
        if (response === undefined || response === null) return;
        const { event: name, data } = response as { event?: string; data?: unknown };
        if (name) socket.emit(name, data);
        else if (!this.manualAck.has(event) && ack) ack(response);
      },
      error: (error: unknown) => this.logger.error(error),
    });
  }
}

function handlerOf(socket: Socket, event: string): BoundCallback | undefined {
  const table = (socket as HandlerHolder)[HANDLERS] ?? [];
  for (let i = 0; i < table.length; i += 2) if (table[i] === event) return table[i + 1] as BoundCallback;
  return undefined;
}

function notifyDisconnect(this: Socket, reason: unknown): void {
  for (const callback of (this as HandlerHolder)[DISCONNECTS] ?? []) callback(reason);
}
