// The outbox publisher against real PostgreSQL and Redis: events exist if and only if their
// transaction commits, sequence numbers are contiguous per channel under concurrency, publishers
// touching the same channels in opposite orders never deadlock, and committed frames reach the bus.
import type { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxStore } from '../../src/core/realtime/outbox.store.js';
import { RealtimeBus, type BusMessage } from '../../src/core/realtime/realtime-bus.js';
import { RealtimePublisher } from '../../src/core/realtime/realtime.publisher.js';
import { RedisService } from '../../src/core/redis/redis.service.js';
import { unsentOf, withDb } from '../helpers/db.js';
import { createTestContext } from '../helpers/nest.js';

let app: INestApplicationContext;
let db: DataSource;
let publisher: RealtimePublisher;
const onBus: BusMessage[] = [];

const channelName = () => `test-${randomBytes(6).toString('hex')}`;

async function storedSeqs(channel: string): Promise<number[]> {
  return withDb(async (client) => {
    const { rows } = await client.query<{ seq: string }>(
      'SELECT seq FROM outbox_events WHERE channel = $1 ORDER BY seq',
      [channel],
    );
    return rows.map((r) => Number(r.seq));
  });
}

beforeAll(async () => {
  app = await createTestContext();
  db = app.get<DataSource>(getDataSourceToken());
  publisher = app.get(RealtimePublisher);
  await app.get(RealtimeBus).subscribe(
    (message) => onBus.push(message),
    () => undefined,
  );
});

afterAll(async () => {
  await app?.close();
});

describe('RealtimePublisher', () => {
  it('writes nothing and sends nothing when the transaction rolls back', async () => {
    const channel = channelName();
    await expect(
      db.transaction((tx) => {
        publisher.publishUnchecked(tx, channel, 'doomed', {});
        return Promise.reject(new Error('the change failed'));
      }),
    ).rejects.toThrow('the change failed');
    expect(await storedSeqs(channel)).toEqual([]);
    const seq = await withDb((client) => client.query('SELECT seq FROM channel_seq WHERE channel = $1', [channel]));
    expect(seq.rowCount).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(onBus.flatMap((m) => m.frames).filter((f) => f.channel === channel)).toEqual([]);
  });

  it('hands its own subscriber a message within the publishing call, and other processes get it once through Redis', async () => {
    const other = await createTestContext();
    try {
      const elsewhere: BusMessage[] = [];
      await other.get(RealtimeBus).subscribe(
        (message) => elsewhere.push(message),
        () => undefined,
      );
      const channel = channelName();
      const frame = { event: 'hello', channel, seq: 1, timestamp: new Date().toISOString(), payload: { a: 1 } };
      const mine = () => onBus.filter((m) => m.frames[0]?.channel === channel);
      const publishing = app.get(RealtimeBus).publish({ frames: [frame] });
      expect(mine()).toHaveLength(1); // before Redis answered
      await publishing;
      await expect.poll(() => elsewhere.filter((m) => m.frames[0]?.channel === channel)).toHaveLength(1);
      expect(elsewhere.find((m) => m.frames[0]?.channel === channel)).toEqual({ frames: [frame] });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(mine()).toHaveLength(1); // not again when Redis hands it back
      // An untagged message (a process of the previous version) is still understood.
      const untagged = { frames: [{ ...frame, seq: 2, payload: { note: 'spaces in it' } }] };
      await app
        .get(RedisService)
        .client.publish(app.get(RedisService).key('realtime', 'events'), JSON.stringify(untagged));
      await expect.poll(() => elsewhere.filter((m) => m.frames[0]?.channel === channel)).toHaveLength(2);
      expect(elsewhere.filter((m) => m.frames[0]?.channel === channel)[1]).toEqual(untagged);
    } finally {
      await other.close();
    }
  });

  it('refuses to publish outside a transaction', () => {
    expect(() => publisher.publishUnchecked(db.manager, channelName(), 'x', {})).toThrow(/inside a transaction/);
  });

  it('numbers 100 events from 50 concurrent transactions 1..100 with each transaction’s events adjacent', async () => {
    const channel = channelName();
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        db.transaction((tx) => {
          publisher.publishUnchecked(tx, channel, 'first', { tx: i });
          publisher.publishUnchecked(tx, channel, 'second', { tx: i });
          return Promise.resolve();
        }),
      ),
    );
    expect(await storedSeqs(channel)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const rows = await withDb((client) =>
      client.query<{ seq: string; event: string; payload: { tx: number } }>(
        'SELECT seq, event, payload FROM outbox_events WHERE channel = $1 ORDER BY seq',
        [channel],
      ),
    );
    for (let i = 0; i < 100; i += 2) {
      expect(rows.rows[i].event).toBe('first');
      expect(rows.rows[i + 1]).toMatchObject({ event: 'second', payload: { tx: rows.rows[i].payload.tx } });
    }
    await expect
      .poll(() => onBus.flatMap((m) => m.frames).filter((f) => f.channel === channel).length, { timeout: 2000 })
      .toBe(100);
    const sent = onBus.flatMap((m) => m.frames).filter((f) => f.channel === channel);
    expect(sent.map((f) => f.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('never deadlocks when transactions publish to the same channels in opposite orders', async () => {
    const [left, right] = [channelName(), channelName()];
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        db.transaction(async (tx) => {
          const order = i % 2 === 0 ? [left, right] : [right, left];
          for (const channel of order) publisher.publishUnchecked(tx, channel, 'crossed', { i });
          // Hold the transaction open a little so the commits really overlap.
          await tx.query('SELECT pg_sleep(0.005)');
        }),
      ),
    );
    expect(await storedSeqs(left)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(await storedSeqs(right)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  });

  it('publishes to a user by id, and a public channel through the outbox with its own seq', async () => {
    await expect(
      db.transaction((tx) => publisher.publishToUser(tx, '999999999', 'notice', { message: 'x' })),
    ).rejects.toThrow('no user 999999999');
    const channel = `trade:TEST-${randomBytes(3).toString('hex').toUpperCase()}`;
    await publisher.publishPublic(channel, 'new-trade', { price: 1 });
    await publisher.publishPublic(channel, 'new-trade', { price: 2 });
    const frames = () => onBus.flatMap((m) => m.frames).filter((f) => f.channel === channel);
    await expect.poll(() => frames().length).toBe(2);
    expect(frames().map((f) => f.seq)).toEqual([1, 2]);
    expect(await storedSeqs(channel)).toEqual([1, 2]);
  });

  it('replays a payload exactly as it was sent live, key order included', async () => {
    const channel = channelName();
    const payload = { zeta: 1, alpha: { second: 2, first: 1 }, mid: [3, 1.5, 'x'] };
    await publisher.publishNow(channel, 'ordered', payload);
    await expect.poll(() => onBus.flatMap((m) => m.frames).find((f) => f.channel === channel)).toBeDefined();
    const live = onBus.flatMap((m) => m.frames).find((f) => f.channel === channel)!;
    const [replayed] = await app.get(OutboxStore).range(channel, 0);
    expect(JSON.stringify(replayed.payload)).toBe(JSON.stringify(payload));
    expect(JSON.stringify(live.payload)).toBe(JSON.stringify(payload));
  });

  it('stores a transaction’s events of a channel as one run, and replays any slice of it', async () => {
    const store = app.get(OutboxStore);
    const [busy, quiet] = [channelName(), channelName()];
    await publisher.publishNow(busy, 'before', { n: 0 });
    await db.transaction((tx) => {
      for (let n = 1; n <= 5; n += 1) publisher.publishUnchecked(tx, busy, 'run', { n });
      publisher.publishUnchecked(tx, quiet, 'alone', { n: 1 });
      return Promise.resolve();
    });
    const writes = await withDb(async (client) =>
      (
        await client.query<{ channel: string; first_seq: string; last_seq: string }>(
          `SELECT channel, first_seq, last_seq FROM outbox_writes WHERE channel IN ($1, $2) ORDER BY channel, last_seq`,
          [busy, quiet],
        )
      ).rows.map((r) => [r.channel, Number(r.first_seq), Number(r.last_seq)]),
    );
    expect(writes).toEqual(
      [
        [busy, 1, 1],
        [busy, 2, 6],
        [quiet, 1, 1],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0])) || Number(a[2]) - Number(b[2])),
    );
    const slice = async (after: number, upTo?: number, limit?: number) =>
      (await store.range(busy, after, upTo, limit)).map((f) => [f.seq, f.event, (f.payload as { n: number }).n]);
    expect(await slice(0)).toEqual([
      [1, 'before', 0],
      [2, 'run', 1],
      [3, 'run', 2],
      [4, 'run', 3],
      [5, 'run', 4],
      [6, 'run', 5],
    ]);
    // Cut inside the run at either end, and by the limit.
    expect(await slice(3, 5)).toEqual([
      [4, 'run', 3],
      [5, 'run', 4],
    ]);
    expect(await slice(0, undefined, 3)).toEqual([
      [1, 'before', 0],
      [2, 'run', 1],
      [3, 'run', 2],
    ]);
    expect(await slice(6)).toEqual([]);
    expect(await store.bounds(busy)).toEqual({ latest: 6, oldest: 1 });
    await withDb((client) => client.query(`DELETE FROM outbox_writes WHERE channel = $1 AND last_seq = 1`, [busy]));
    expect(await store.bounds(busy)).toEqual({ latest: 6, oldest: 2 });
  });

  it('refuses a run whose events do not fill its seqs', async () => {
    const channel = channelName();
    const insert = (first: number, last: number, events: string) =>
      withDb((client) =>
        client.query(`INSERT INTO outbox_writes (channel, first_seq, last_seq, events) VALUES ($1, $2, $3, $4)`, [
          channel,
          first,
          last,
          events,
        ]),
      );
    const one = '[{"event":"x","payload":{}}]';
    await expect(insert(1, 2, one)).rejects.toThrow(/outbox_writes_seq_run/);
    await expect(insert(2, 1, one)).rejects.toThrow(/outbox_writes_seq_run/);
    await expect(insert(0, 0, one)).rejects.toThrow(/outbox_writes_seq_run/);
    await insert(1, 1, one);
    await expect(insert(1, 1, one)).rejects.toThrow(/outbox_writes_channel_last_seq_key/);
  });

  it('purges events past the retention and finds those never emitted', async () => {
    const store = app.get(OutboxStore);
    const channel = channelName();
    for (let i = 0; i < 3; i += 1) await publisher.publishNow(channel, 'kept-or-not', { i });
    await expect.poll(() => unsentOf(channel), { timeout: 2000 }).toBe(0);
    await withDb(async (client) => {
      await client.query(
        `UPDATE outbox_writes SET created_at = now() - interval '8 days' WHERE channel = $1 AND last_seq <= 2`,
        [channel],
      );
      // Seq 3 as if its process had died after commit: its marker is back, and 10 seconds old.
      await client.query(
        `INSERT INTO outbox_unsent (first_write_id, write_ids, created_at)
         SELECT id, ARRAY[id], now() - interval '10 seconds' FROM outbox_writes WHERE channel = $1 AND last_seq = 3`,
        [channel],
      );
    });
    const pending = await store.unemitted(3000, 1000);
    expect(pending.frames.filter((f) => f.channel === channel).map((f) => f.seq)).toEqual([3]);
    await store.markEmitted(pending.markers);
    expect(await unsentOf(channel)).toBe(0);
    expect(await store.purgeOlderThan(7)).toBeGreaterThanOrEqual(2);
    expect(await storedSeqs(channel)).toEqual([3]);
    // The sequence goes on after a purge; a since older than what is left asks for a reset.
    expect(await store.bounds(channel)).toEqual({ latest: 3, oldest: 3 });
  });
});
