// Pieces of the fault suite (test/faults/): a user socket that follows its channel through any
// disconnect (reconnecting with auth.since), a steady load of idempotent transfers whose clients
// retry with the same key until answered, and the checks of what must hold afterwards.
import { randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { expect } from 'vitest';
import { withDb } from './db.js';
import type { Client } from './http.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Follower {
  socket: Socket;
  channel: string;
  /** Seqs of the user channel's frames, in arrival order (duplicates kept: they are a failure). */
  seqs: number[];
  /** Times the socket was disconnected. */
  disconnects: string[];
  close(): void;
}

/**
 * A user socket that reconnects on its own and resumes where it left off: `auth.since` is the
 * last seq it holds of its channel (at first `since`), re-read at every reconnection.
 */
export function followUser(baseUrl: string, token: string, channel: string, since = 0): Promise<Follower> {
  const seqs: number[] = [];
  const disconnects: string[] = [];
  const socket = io(`${baseUrl}/user`, {
    path: '/ws/socket.io',
    transports: ['websocket'],
    forceNew: true,
    reconnection: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    auth: (cb) => cb({ token, since: seqs.length ? Math.max(...seqs) : since }),
  });
  socket.on('stream', (frame: { channel: string; seq: number }) => {
    if (frame.channel === channel) seqs.push(frame.seq);
  });
  socket.on('disconnect', (reason) => disconnects.push(reason));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('follower not connected within 5 s')), 5000);
    socket.once('connected', () => {
      clearTimeout(timer);
      resolve({ socket, channel, seqs, disconnects, close: () => socket.close() });
    });
  });
}

/** The latest seq of each channel, from the database (this run's, or the one at `dbUrl`). */
export async function latestSeqs(channels: string[], dbUrl?: string): Promise<Map<string, number>> {
  return withDb(async (db) => {
    const { rows } = await db.query<{ channel: string; seq: string }>(
      `SELECT channel, seq FROM channel_seq WHERE channel = ANY($1)`,
      [channels],
    );
    return new Map(rows.map((r) => [r.channel, Number(r.seq)]));
  }, dbUrl);
}

/** Every follower got every event of its channel exactly once, in order: 1..latest. */
export async function expectEveryEventOnce(followers: Follower[], dbUrl?: string, timeoutMs = 15_000): Promise<void> {
  const latest = await latestSeqs(
    followers.map((f) => f.channel),
    dbUrl,
  );
  for (const follower of followers) {
    const last = latest.get(follower.channel) ?? 0;
    await expect.poll(() => follower.seqs.length, { timeout: timeoutMs, interval: 100 }).toBeGreaterThanOrEqual(last);
    await sleep(200);
    expect(follower.seqs, `channel ${follower.channel}`).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  }
}

export interface Transfer {
  key: string;
  from: string;
  to: string;
  /** The receipt of the acknowledged success, once there is one. */
  receipt?: string;
  /** Error codes answered along the way (retried with the same key). */
  errors: string[];
}

export interface LoadResult {
  transfers: Transfer[];
  stop(): Promise<void>;
}

/**
 * Each sender sends 1.00 USD transfers one after another to the others until stopped; a
 * transfer whose answer is an error or that gets no answer in time is sent again with the same
 * idempotency key until it succeeds, as a careful client would.
 */
export function transferLoad(
  senders: { userId: string; socket: () => Socket }[],
  options: { ackTimeoutMs?: number; pauseMs?: number } = {},
): LoadResult {
  const transfers: Transfer[] = [];
  let stopping = false;
  const runs = senders.map(async (sender, index) => {
    while (!stopping) {
      const to = senders[(index + 1 + Math.floor(Math.random() * (senders.length - 1))) % senders.length].userId;
      const transfer: Transfer = { key: randomBytes(12).toString('hex'), from: sender.userId, to, errors: [] };
      transfers.push(transfer);
      // Once sent, a transfer is retried until it is acknowledged, even after stop().
      for (;;) {
        try {
          const reply = (await sender
            .socket()
            .timeout(options.ackTimeoutMs ?? 3000)
            .emitWithAck('transfer', {
              to_user_id: to,
              amount: '1.00',
              currency: 'USD',
              idempotency_key: transfer.key,
            })) as {
            type: string;
            data: { code?: string; data?: { receipt_code: string } };
          };
          if (reply.type === 'success') {
            transfer.receipt = reply.data.data!.receipt_code;
            break;
          }
          transfer.errors.push(reply.data.code ?? 'unknown');
        } catch {
          transfer.errors.push('no answer');
        }
        await sleep(100);
      }
      if (options.pauseMs) await sleep(options.pauseMs);
    }
  });
  return {
    transfers,
    stop: async () => {
      stopping = true;
      await Promise.all(runs);
    },
  };
}

/**
 * What the database must say after a load: every acknowledged transfer is there, and no
 * idempotency key moved money twice (each sender's transfer journals are exactly its keys that
 * succeeded).
 */
export async function expectTransfersExactlyOnce(transfers: Transfer[], dbUrl?: string): Promise<void> {
  const acked = transfers.filter((t) => t.receipt);
  expect(acked.length).toBe(transfers.length);
  await withDb(async (db) => {
    const { rows } = await db.query<{ receipt_code: string; from_user: string }>(
      `SELECT receipt_code, metadata->>'from_user_id' AS from_user FROM journals
        WHERE type = 'TRANSACTION_TYPE_TRANSFER' AND metadata->>'from_user_id' = ANY($1)`,
      [[...new Set(transfers.map((t) => t.from))]],
    );
    const receipts = new Set(rows.map((r) => r.receipt_code));
    const missing = acked.filter((t) => !receipts.has(t.receipt!));
    expect(missing, 'acknowledged but missing').toEqual([]);
    expect(rows.length, 'transfer journals = distinct keys that succeeded').toBe(acked.length);
    expect(new Set(acked.map((t) => t.receipt)).size).toBe(acked.length);
  }, dbUrl);
}

/** The admin ledger check says balanced. */
export async function expectLedgerBalanced(api: Client, adminToken: string): Promise<void> {
  const check = await api.get('/api/v1/admin/ledger/check', { token: adminToken });
  expect(check.status, JSON.stringify(check.body)).toBe(200);
  expect(check.body).toMatchObject({ balanced: true, problems: [] });
}
