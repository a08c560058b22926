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
import { SOCKET_PATH } from './realtime.types.js';

export class RealtimeIoAdapter extends IoAdapter {
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
   * Nest's version builds an rxjs pipeline per socket and per handler: about 20 KB for each idle
   * socket with five handlers. A plain listener per handler does the same work (call the handler,
   * emit `{event, data}` or answer the ack with anything else) at a fraction of the memory.
   */
  override bindMessageHandlers(
    socket: Socket,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      socket.on(String(message), (...args: unknown[]) => {
        const mapped: { data: unknown; ack?: unknown } = this.mapPayload(args.length === 1 ? args[0] : args);
        const ack = typeof mapped.ack === 'function' ? (mapped.ack as (response: unknown) => void) : undefined;
        transform(callback(mapped.data, ack)).subscribe({
          next: (response) => {
            if (response === undefined || response === null) return;
            const { event, data: body } = response as { event?: string; data?: unknown };
            if (event) socket.emit(event, body);
            else if (!isAckHandledManually && ack) ack(response);
          },
          error: (error: unknown) => this.logger.error(error),
        });
      });
    }
  }
}
