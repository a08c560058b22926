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
   * Writes events in the given transaction. Sequence numbers are taken per channel, channels in
   * sorted order (so two transactions touching the same channels never deadlock on them), and the
   * channel_seq row stays locked until commit: seq order is commit order on every channel.
   */
  async write(tx: EntityManager, events: PendingEvent[]): Promise<StoredFrame[]> {
    if (events.length === 0) return [];
    const counts = new Map<string, number>();
    for (const e of events) counts.set(e.channel, (counts.get(e.channel) ?? 0) + 1);
    const channels = [...counts.keys()].sort();
    const { rows: last } = await sql<{ channel: string; seq: string }>(
      tx,
      `INSERT INTO channel_seq (channel, seq)
       SELECT c, n FROM unnest($1::text[], $2::bigint[]) AS t(c, n) ORDER BY c
       ON CONFLICT (channel) DO UPDATE SET seq = channel_seq.seq + EXCLUDED.seq
       RETURNING channel, seq`,
      [channels, channels.map((c) => counts.get(c))],
    );
    const next = new Map(last.map((r) => [r.channel, Number(r.seq) - counts.get(r.channel)! + 1]));
    const seqs = events.map((e) => {
      const seq = next.get(e.channel)!;
      next.set(e.channel, seq + 1);
      return seq;
    });
    const { rows } = await sql<OutboxRow>(
      tx,
      `INSERT INTO outbox_events (channel, seq, event, payload)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::jsonb[])
       RETURNING id, channel, seq, event, payload, created_at`,
      [events.map((e) => e.channel), seqs, events.map((e) => e.event), events.map((e) => JSON.stringify(e.payload))],
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
