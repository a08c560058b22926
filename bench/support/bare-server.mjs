// The baseline server: a bare socket.io 4.8.3 server with the Redis adapter and no application
// code, run as a child process exactly like the service (same path, websocket transport, same
// Redis). Namespaces /user and /public, as the service's. A client joins rooms with `join` (array
// of room names, acknowledged). Events reach its sockets only through the Redis adapter, published
// by another process (see bare.mjs).
// Env: REDIS_URL, ADAPTER_KEY. Reports {port} over IPC once it listens.
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const pub = new Redis(process.env.REDIS_URL);
const sub = pub.duplicate();
const http = createServer();
const io = new Server(http, { path: '/ws/socket.io', transports: ['websocket'], serveClient: false });
io.adapter(createAdapter(pub, sub, { key: process.env.ADAPTER_KEY }));

for (const namespace of ['/user', '/public']) {
  io.of(namespace).on('connection', (socket) => {
    socket.on('join', (rooms, ack) => {
      void Promise.resolve(socket.join(rooms)).then(() => ack({ ok: true }));
    });
  });
}

// The adapters sent their PSUBSCRIBE when the namespaces were created; Redis answers in order,
// so once this PING is answered, events published from now on are received.
await sub.ping();

process.once('SIGTERM', () => {
  void io.close().finally(() => process.exit(0));
});

http.listen(0, '127.0.0.1', () => process.send({ port: http.address().port }));
