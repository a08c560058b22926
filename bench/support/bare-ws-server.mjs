// The baseline of the plain-WebSocket bench: a bare `ws` server (no application code) with an
// ioredis subscriber, run as a child process exactly like the service. The simplest correct way to
// do the service's job without its features: a client joins rooms with the frame
// `{"join":[rooms...]}` (answered `{"joined":[rooms...]}`); a Redis message on
// `<PREFIX>:bare-ws:<room>` is sent as it is (one string) to every member of the room. Clients are
// pinged like the service pings them (ws's README heartbeat), and a silent one is terminated.
// Env: REDIS_URL, PREFIX. Reports {port} over IPC once it listens and its subscription is active.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';

/** The service's defaults: WS_MAX_PAYLOAD, and its plain endpoints' ping interval (PING_MS). */
const MAX_PAYLOAD = 65536;
const PING_MS = 25_000;

const prefix = `${process.env.PREFIX}:bare-ws:`;
/** Room → its members. */
const rooms = new Map();

const http = createServer();
const wss = new WebSocketServer({ server: http, maxPayload: MAX_PAYLOAD, perMessageDeflate: false });

function join(ws, room) {
  let members = rooms.get(room);
  if (!members) {
    members = new Set();
    rooms.set(room, members);
  }
  members.add(ws);
  ws.rooms.push(room);
}

function leaveAll(ws) {
  for (const room of ws.rooms) {
    const members = rooms.get(room);
    members?.delete(ws);
    if (members?.size === 0) rooms.delete(room);
  }
  ws.rooms = [];
}

wss.on('connection', (ws) => {
  ws.rooms = [];
  ws.isAlive = true;
  ws.on('pong', () => {
    ws.isAlive = true;
  });
  ws.on('message', (data, isBinary) => {
    let frame;
    try {
      frame = isBinary ? undefined : JSON.parse(data.toString('utf8'));
    } catch {
      // answered below
    }
    const wanted = frame?.join;
    if (!Array.isArray(wanted) || !wanted.every((room) => typeof room === 'string')) {
      ws.send(JSON.stringify({ error: 'expected {"join":[rooms...]}' }));
      return;
    }
    for (const room of wanted) join(ws, room);
    ws.send(JSON.stringify({ joined: wanted }));
  });
  ws.on('close', () => leaveAll(ws));
  ws.on('error', () => undefined);
});

const heartbeat = setInterval(() => {
  for (const ws of wss.clients) {
    if (!ws.isAlive) {
      ws.terminate();
      continue;
    }
    ws.isAlive = false;
    ws.ping();
  }
}, PING_MS);

const sub = new Redis(process.env.REDIS_URL);
sub.on('pmessage', (_pattern, channel, message) => {
  const members = rooms.get(channel.slice(prefix.length));
  if (!members) return;
  for (const ws of members) ws.send(message);
});
// Resolves once Redis confirmed the subscription: messages published from now on are received.
await sub.psubscribe(`${prefix}*`);

process.once('SIGTERM', () => {
  clearInterval(heartbeat);
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  http.close();
  sub.disconnect();
  process.exit(0);
});

http.listen(0, '127.0.0.1', () => process.send({ port: http.address().port }));
