// The socket.io server of every API instance: path /ws/socket.io, websocket and polling, a bounded
// frame size, the lenient parser, and the Redis adapter that joins instances into one server.
import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Server, ServerOptions } from 'socket.io';
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
}
