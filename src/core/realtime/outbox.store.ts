// SQL of the event outbox: sequence allocation and writes inside a transaction, and the reads
// that replay, gap filling and the relay need.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { pgArray } from '../database/pg-array.js';
import { sql } from '../database/sql.js';
import { frameJson } from './frame-json.js';
import type { StreamFrame } from './realtime.types.js';

export interface PendingEvent {
  channel: string;
  event: string;
  payload: unknown;
}

/** The unsent marker of frames written by one statement: their smallest id. */
export const markerOf = (frames: StoredFrame[]): string =>
  frames.reduce((min, f) => (BigInt(f.id) < BigInt(min) ? f.id : min), frames[0].id);

export interface StoredFrame extends StreamFrame {
  /** Outbox row id; the smallest of a write is its unsent marker. */
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
    // The payloads stay here: PostgreSQL gives back only what it made (ids, seqs, times). They go
    // as one JSON array: no array-literal escaping of JSON text, and each one's text is reused for
    // its frame (frame-json.ts).
    const payloads = events.map((e) => JSON.stringify(e.payload));
    const { rows } = await sql<{ id: string; channel: string; seq: string; created_at: Date }>(
      tx,
      `WITH input AS (
         SELECT t.channel, t.event, p.payload, t.ord
           FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(channel, event, ord)
           JOIN json_array_elements($3::json) WITH ORDINALITY AS p(payload, ord) USING (ord)
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
       RETURNING id, channel, seq, created_at`,
      [pgArray(events.map((e) => e.channel)), pgArray(events.map((e) => e.event)), `[${payloads.join(',')}]`],
    );
    // Within a channel, seqs were given out in the order of the events: sorted the same way (the
    // sort is stable), rows and events pair up one to one.
    const byChannel = (a: { channel: string }, b: { channel: string }) =>
      a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0;
    const ordered = events.map((event, i) => ({ ...event, json: payloads[i] })).sort(byChannel);
    return rows
      .map((row) => ({ ...row, seq: Number(row.seq) }))
      .sort((a, b) => byChannel(a, b) || a.seq - b.seq)
      .map((row, i) => {
        const frame: StoredFrame = {
          id: String(row.id),
          event: ordered[i].event,
          channel: row.channel,
          seq: row.seq,
          timestamp: row.created_at.toISOString(),
          payload: ordered[i].payload,
        };
        frameJson(frame, ordered[i].json);
        return frame;
      });
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

  /**
   * Records that the events of these unsent markers reached the bus. A marker is the first
   * (smallest) event id of one writing statement (see `markerOf`); the database keeps one row per
   * statement until it is marked.
   */
  async markEmitted(markers: string[]): Promise<void> {
    if (markers.length === 0) return;
    await sql(this.db, `DELETE FROM outbox_unsent WHERE first_event_id = ANY($1::bigint[])`, [markers]);
  }

  /**
   * Events written at least `olderThanMs` ago and never marked emitted (their process died between
   * commit and emit, or lost Redis): the events of up to `limit` writing statements, with their
   * markers.
   */
  async unemitted(olderThanMs: number, limit: number): Promise<{ frames: StoredFrame[]; markers: string[] }> {
    const { rows } = await sql<OutboxRow & { marker: string }>(
      this.db,
      `WITH unsent AS (
         SELECT first_event_id, event_ids FROM outbox_unsent
          WHERE created_at < now() - make_interval(secs => $1::double precision / 1000)
          ORDER BY first_event_id LIMIT $2
       )
       SELECT u.first_event_id AS marker, o.id, o.channel, o.seq, o.event, o.payload, o.created_at
         FROM unsent u LEFT JOIN outbox_events o ON o.id = ANY(u.event_ids)
        ORDER BY o.id`,
      [olderThanMs, limit],
    );
    return {
      // A marker whose events were purged meanwhile has nothing left to send.
      frames: rows.filter((row) => row.id !== null).map(toFrame),
      markers: [...new Set(rows.map((row) => String(row.marker)))],
    };
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
      if (count < batch) break;
    }
    await sql(this.db, `DELETE FROM outbox_unsent WHERE created_at < now() - make_interval(days => $1)`, [days]);
    return total;
  }
}
