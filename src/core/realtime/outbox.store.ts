// SQL of the event outbox: sequence allocation and writes inside a transaction, and the reads
// that replay, gap filling and the relay need.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { pgArray } from '../database/pg-array.js';
import { prepared, sendWithNext, sql } from '../database/sql.js';
import { frameJson } from './frame-json.js';
import type { StreamFrame } from './realtime.types.js';

const WRITE_OUTBOX = prepared(
  'outbox_write',
  `WITH input AS (
         SELECT t.channel, t.n, r.events
           FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS t(channel, n, ord)
           JOIN json_array_elements($3::json) WITH ORDINALITY AS r(events, ord) USING (ord)
       ), taken AS (
         INSERT INTO channel_seq (channel, seq)
         SELECT channel, n FROM input ORDER BY channel
         ON CONFLICT (channel) DO UPDATE SET seq = channel_seq.seq + EXCLUDED.seq
         RETURNING channel, seq
       )
       INSERT INTO outbox_writes (channel, first_seq, last_seq, events)
       SELECT i.channel, t.seq - i.n + 1, t.seq, i.events
         FROM input i JOIN taken t USING (channel)
       RETURNING id, channel, first_seq, created_at`,
);

export interface PendingEvent {
  channel: string;
  event: string;
  payload: unknown;
}

/** The unsent marker of frames written by one statement: their smallest id. */
export const markerOf = (frames: StoredFrame[]): string =>
  frames.reduce((min, f) => (BigInt(f.id) < BigInt(min) ? f.id : min), frames[0].id);

export interface StoredFrame extends StreamFrame {
  /** Its outbox_writes row (shared by the events of a run); the smallest of a statement is its unsent marker. */
  id: string;
}

/** A row of outbox_writes: the events one statement wrote to one channel, seqs first..last. */
interface WriteRow {
  id: string;
  channel: string;
  first_seq: string;
  events: { event: string; payload: unknown }[];
  created_at: Date;
}

/** The frames of a write row, in seq order. */
const framesOf = (row: WriteRow): StoredFrame[] => {
  const id = String(row.id);
  const first = Number(row.first_seq);
  const timestamp = row.created_at.toISOString();
  return row.events.map(({ event, payload }, i) => ({
    id,
    event,
    channel: row.channel,
    seq: first + i,
    timestamp,
    payload,
  }));
};

@Injectable()
export class OutboxStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Writes events in the given transaction, in one round trip: one row per channel, holding that
   * channel's events as a run of sequence numbers. Runs are taken per channel, channels in sorted
   * order (so two transactions touching the same channels never deadlock on them), and the
   * channel_seq row stays locked until commit: seq order is commit order on every channel. A
   * transaction's events keep their order within each channel.
   */
  write(tx: EntityManager, events: PendingEvent[]): Promise<StoredFrame[]> {
    // Not async: the statement is on the wire when this returns (sql.ts send()), and anything that
    // keeps it from being sent throws here, before the COMMIT behind it (commit-queue.ts).
    if (events.length === 0) return Promise.resolve([]);
    // The payloads stay here: PostgreSQL gives back only what it made (ids, seqs, times). Each
    // channel's events go as one JSON array inside one JSON array: no array-literal escaping of
    // JSON text, and each payload's text is reused for its frame (frame-json.ts).
    const byChannel = new Map<string, number[]>();
    events.forEach((event, i) => {
      const run = byChannel.get(event.channel);
      if (run) run.push(i);
      else byChannel.set(event.channel, [i]);
    });
    const channels = [...byChannel.keys()].sort();
    // A payload published on several channels (an order on its owner's and its own channel, a
    // trade on `trade` and `trade:PAIR`) is the same object: serialized once.
    const texts = new Map<unknown, string>();
    const payloads = events.map((e) => {
      let text = texts.get(e.payload);
      if (text === undefined) {
        text = JSON.stringify(e.payload);
        if (typeof e.payload === 'object' && e.payload !== null) texts.set(e.payload, text);
      }
      return text;
    });
    const runs = channels.map(
      (channel) =>
        `[${byChannel
          .get(channel)!
          .map((i) => `{"event":${JSON.stringify(events[i].event)},"payload":${payloads[i]}}`)
          .join(',')}]`,
    );
    // Sent with the COMMIT that follows it (commit-queue.ts): one write for both.
    const answer = sendWithNext<{ id: string; channel: string; first_seq: string; created_at: Date }>(
      tx,
      WRITE_OUTBOX,
      [pgArray(channels), pgArray(channels.map((c) => byChannel.get(c)!.length)), `[${runs.join(',')}]`],
    );
    return answer.then(({ rows }) =>
      rows.flatMap((row) => {
        const run = byChannel.get(row.channel)!;
        const frames = framesOf({ ...row, events: run.map((i) => events[i]) });
        frames.forEach((frame, k) => frameJson(frame, payloads[run[k]]));
        return frames;
      }),
    );
  }

  /** Events of a channel with seq in (after, upTo], in order, at most `limit`. */
  async range(
    channel: string,
    after: number,
    upTo: number = Number.MAX_SAFE_INTEGER,
    limit = 500,
  ): Promise<StoredFrame[]> {
    // Every row holds at least one event: `limit` rows hold at least `limit` events.
    const { rows } = await sql<WriteRow>(
      this.db,
      `SELECT id, channel, first_seq, events, created_at FROM outbox_writes
        WHERE channel = $1 AND last_seq > $2 AND first_seq <= $3 ORDER BY last_seq LIMIT $4`,
      [channel, after, upTo, limit],
    );
    return rows
      .flatMap(framesOf)
      .filter((frame) => frame.seq > after && frame.seq <= upTo)
      .slice(0, limit);
  }

  /** The last seq given out on a channel (0 when none) and the oldest one still retained. */
  /** The latest seq of each of `channels` (0 for a channel with nothing yet), in one round trip. */
  async latestOf(channels: readonly string[]): Promise<Map<string, number>> {
    const { rows } = await sql<{ channel: string; seq: string }>(
      this.db,
      `SELECT channel, seq FROM channel_seq WHERE channel = ANY($1::text[])`,
      [channels],
    );
    const latest = new Map(channels.map((channel) => [channel, 0]));
    for (const row of rows) latest.set(row.channel, Number(row.seq));
    return latest;
  }

  async bounds(channel: string): Promise<{ latest: number; oldest: number | null }> {
    const { rows } = await sql<{ latest: string | null; oldest: string | null }>(
      this.db,
      `SELECT (SELECT seq FROM channel_seq WHERE channel = $1) AS latest,
              (SELECT first_seq FROM outbox_writes WHERE channel = $1 ORDER BY last_seq LIMIT 1) AS oldest`,
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
   * (smallest) write id of one writing statement (see `markerOf`); the database keeps one row per
   * statement until it is marked.
   */
  async markEmitted(markers: string[]): Promise<void> {
    if (markers.length === 0) return;
    await sql(this.db, `DELETE FROM outbox_unsent WHERE first_write_id = ANY($1::bigint[])`, [markers]);
  }

  /**
   * Events written at least `olderThanMs` ago and never marked emitted (their process died between
   * commit and emit, or lost Redis): the events of up to `limit` writing statements, with their
   * markers.
   */
  async unemitted(olderThanMs: number, limit: number): Promise<{ frames: StoredFrame[]; markers: string[] }> {
    const { rows } = await sql<WriteRow & { marker: string }>(
      this.db,
      `WITH unsent AS (
         SELECT first_write_id, write_ids FROM outbox_unsent
          WHERE created_at < now() - make_interval(secs => $1::double precision / 1000)
          ORDER BY first_write_id LIMIT $2
       )
       SELECT u.first_write_id AS marker, o.id, o.channel, o.first_seq, o.events, o.created_at
         FROM unsent u LEFT JOIN outbox_writes o ON o.id = ANY(u.write_ids)
        ORDER BY o.id`,
      [olderThanMs, limit],
    );
    return {
      // A marker whose events were purged meanwhile has nothing left to send.
      frames: rows.filter((row) => row.id !== null).flatMap(framesOf),
      markers: [...new Set(rows.map((row) => String(row.marker)))],
    };
  }

  /** Deletes events older than the retention, in batches of writes; returns how many events. */
  async purgeOlderThan(days: number, batch = 10000): Promise<number> {
    let total = 0;
    for (;;) {
      const { rows } = await sql<{ writes: string; events: string }>(
        this.db,
        `WITH gone AS (
           DELETE FROM outbox_writes WHERE id IN (
             SELECT id FROM outbox_writes WHERE created_at < now() - make_interval(days => $1) LIMIT $2)
           RETURNING last_seq - first_seq + 1 AS events
         )
         SELECT count(*) AS writes, coalesce(sum(events), 0) AS events FROM gone`,
        [days, batch],
      );
      total += Number(rows[0].events);
      if (Number(rows[0].writes) < batch) break;
    }
    await sql(this.db, `DELETE FROM outbox_unsent WHERE created_at < now() - make_interval(days => $1)`, [days]);
    return total;
  }
}
