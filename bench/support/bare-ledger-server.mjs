// The baseline of the ledger bench: a bare socket.io 4.8.3 server (same path, websocket transport,
// Redis adapter, namespace /user, as the service's) whose `transfer` handler makes ONE round trip
// to PostgreSQL, the plpgsql function bare_transfer() (bare-ledger.mjs), acknowledges
// `{ok, data}`, then announces the transfer to the receiver's room and the sender's room, one
// `stream` frame each, through the Redis adapter (which delivers to this process's sockets at once
// and publishes to Redis for other processes, as the service's bus does). No validation library, no
// rate limit, no idempotency key, no outbox: what a transfer cannot do without.
// A socket names its user in the handshake (`auth: {user_id}`) and is put in the room `user:<id>`
// before it is connected; nothing is checked (the service checks a token, once per socket too).
// Env: DATABASE_URL, POOL_SIZE, REDIS_URL, ADAPTER_KEY, CURRENCY, FEE_RATE. Reports {port} over IPC.
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Server } from 'socket.io';

const CURRENCY = process.env.CURRENCY;
const FEE_RATE = Number(process.env.FEE_RATE);
const MINOR_PER_MAJOR = 100;
/** Refusals the function raises by message; anything else is INTERNAL. */
const CODES = new Set(['INSUFFICIENT_BALANCE', 'ACCOUNT_NOT_FOUND', 'INVALID_REQUEST']);

const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE) });
const pub = new Redis(process.env.REDIS_URL);
const sub = pub.duplicate();
const http = createServer();
const io = new Server(http, { path: '/ws/socket.io', transports: ['websocket'], serveClient: false });
io.adapter(createAdapter(pub, sub, { key: process.env.ADAPTER_KEY }));
const users = io.of('/user');

users.use((socket, next) => {
  const userId = String(socket.handshake.auth?.user_id ?? '');
  if (!/^\d+$/.test(userId)) return next(new Error('unauthorized'));
  socket.data.userId = userId;
  socket.join(`user:${userId}`);
  next();
});

const refuse = (ack, code) => ack({ ok: false, error: { code } });

users.on('connection', (socket) => {
  const from = socket.data.userId;
  socket.on('transfer', async (body, ack) => {
    if (typeof ack !== 'function') return;
    const to = String(body?.to_user_id ?? '');
    const amount = Math.round(Number(body?.amount) * MINOR_PER_MAJOR);
    if (!/^\d+$/.test(to) || !(amount > 0) || body?.currency !== CURRENCY) return refuse(ack, 'INVALID_REQUEST');
    const fee = Math.round(amount * FEE_RATE);
    let row;
    try {
      ({
        rows: [row],
      } = await db.query('SELECT journal_id, from_balance, to_balance FROM bare_transfer($1, $2, $3, $4)', [
        from,
        to,
        amount,
        fee,
      ]));
    } catch (error) {
      return refuse(ack, CODES.has(error.message) ? error.message : 'INTERNAL');
    }
    const receipt = String(row.journal_id);
    const major = (minor) => Number(minor) / MINOR_PER_MAJOR;
    ack({ ok: true, data: { receipt_code: receipt, amount: major(amount), fee: major(fee), currency: CURRENCY } });
    const announce = (user, balance) =>
      users.to(`user:${user}`).emit('stream', {
        event: 'transfer_completed',
        channel: `user:${user}`,
        payload: {
          receipt_code: receipt,
          from_user_id: from,
          to_user_id: to,
          amount: major(amount),
          balance_after: major(balance),
        },
      });
    announce(to, row.to_balance);
    announce(from, row.from_balance);
  });
});

await sub.ping();

process.once('SIGTERM', () => {
  void io.close().finally(() => void db.end().finally(() => process.exit(0)));
});

http.listen(0, '127.0.0.1', () => process.send({ port: http.address().port }));
