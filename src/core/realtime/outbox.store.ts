// SQL of the event outbox: sequence allocation and writes inside a transaction, and the reads
// that replay, gap filling and the relay need.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { sql } from '../database/sql.js';
import type { StreamFrame } from './realtime.types.js';

export interface PendingEvent {
  channel: string;
  event: string;
  payload: unknown;
}

export interface StoredFrame extends StreamFrame {
  /** Outbox row id (for marking it emitted). */
  id: string;
}

interface OutboxRow {
  id: string;
  channel: string;
  seq: string;
  event: string;
  payload: unknown;
  created_at: Date;
}

const toFrame = (row: OutboxRow): StoredFrame => ({
  id: String(row.id),
  event: row.event,
  channel: row.channel,
  seq: Number(row.seq),
  timestamp: row.created_at.toISOString(),
  payload: row.payload,
});

@Injectable()
export class OutboxStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Writes events in the given transaction, in one round trip. Sequence numbers are taken per
   * channel, channels in sorted order (so two transactions touching the same channels never
   * deadlock on them), and the channel_seq row stays locked until commit: seq order is commit
   * order on every channel. A transaction's events keep their order within each channel.
   */
  async write(tx: EntityManager, events: PendingEvent[]): Promise<StoredFrame[]> {
    if (events.length === 0) return [];
    const { rows } = await sql<OutboxRow>(
      tx,
      `WITH input AS (
         SELECT channel, event, payload, ord
           FROM unnest($1::text[], $2::text[], $3::jsonb[]) WITH ORDINALITY AS t(channel, event, payload, ord)
       ), counts AS (
         SELECT channel, count(*) AS n FROM input GROUP BY channel
       ), taken AS (
         INSERT INTO channel_seq (channel, seq)
         SELECT channel, n FROM counts ORDER BY channel
         ON CONFLICT (channel) DO UPDATE SET seq = channel_seq.seq + EXCLUDED.seq
         RETURNING channel, seq
       )
       INSERT INTO outbox_events (channel, seq, event, payload)
       SELECT i.channel, t.seq - c.n + row_number() OVER (PARTITION BY i.channel ORDER BY i.ord), i.event, i.payload
         FROM input i JOIN taken t USING (channel) JOIN counts c USING (channel)
       RETURNING id, channel, seq, event, payload, created_at`,
      [events.map((e) => e.channel), events.map((e) => e.event), events.map((e) => JSON.stringify(e.payload))],
    );
    return rows.map(toFrame).sort((a, b) => (a.channel === b.channel ? a.seq - b.seq : a.channel < b.channel ? -1 : 1));
  }

  /** Events of a channel with seq in (after, upTo], in order, at most `limit`. */
  async range(
    channel: string,
    after: number,
    upTo: number = Number.MAX_SAFE_INTEGER,
    limit = 500,
  ): Promise<StoredFrame[]> {
    const { rows } = await sql<OutboxRow>(
      this.db,
      `SELECT id, channel, seq, event, payload, created_at FROM outbox_events
        WHERE channel = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4`,
      [channel, after, upTo, limit],
    );
    return rows.map(toFrame);
  }

  /** The last seq given out on a channel (0 when none) and the oldest one still retained. */
  async bounds(channel: string): Promise<{ latest: number; oldest: number | null }> {
    const { rows } = await sql<{ latest: string | null; oldest: string | null }>(
      this.db,
      `SELECT (SELECT seq FROM channel_seq WHERE channel = $1) AS latest,
              (SELECT min(seq) FROM outbox_events WHERE channel = $1) AS oldest`,
      [channel],
    );
    const oldest = rows[0]?.oldest;
    return {
      latest: Number(rows[0]?.latest ?? 0),
      oldest: oldest === null || oldest === undefined ? null : Number(oldest),
    };
  }

  async markEmitted(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await sql(
      this.db,
      `UPDATE outbox_events SET emitted_at = now() WHERE id = ANY($1::bigint[]) AND emitted_at IS NULL`,
      [ids],
    );
  }

  /** Rows committed at least `olderThanMs` ago and never marked emitted. */
  async unemitted(olderThanMs: number, limit: number): Promise<StoredFrame[]> {
    const { rows } = await sql<OutboxRow>(
      this.db,
      `SELECT id, channel, seq, event, payload, created_at FROM outbox_events
        WHERE emitted_at IS NULL AND created_at < now() - make_interval(secs => $1::double precision / 1000)
        ORDER BY id LIMIT $2`,
      [olderThanMs, limit],
    );
    return rows.map(toFrame);
  }

  /** Deletes events older than the retention, in batches; returns how many. */
  async purgeOlderThan(days: number, batch = 10000): Promise<number> {
    let total = 0;
    for (;;) {
      const { count } = await sql(
        this.db,
        `DELETE FROM outbox_events WHERE id IN (
           SELECT id FROM outbox_events WHERE created_at < now() - make_interval(days => $1) LIMIT $2)`,
        [days, batch],
      );
      total += count;
      if (count < batch) return total;
    }
  }
}
