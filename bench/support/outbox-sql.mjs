// The durable part of a publish with nothing around it: the transaction OutboxStore.write() runs
// for one event (src/core/realtime/outbox.store.ts; keep the statements in step with it), sent
// with `pg` directly. It prices what PostgreSQL alone costs per publish.
import pg from 'pg';
import { msSince, summarize } from './stats.mjs';

const NEXT_SEQ = `INSERT INTO channel_seq (channel, seq)
       SELECT c, n FROM unnest($1::text[], $2::bigint[]) AS t(c, n) ORDER BY c
       ON CONFLICT (channel) DO UPDATE SET seq = channel_seq.seq + EXCLUDED.seq
       RETURNING channel, seq`;
const INSERT_EVENT = `INSERT INTO outbox_writes (channel, first_seq, last_seq, events)
       SELECT * FROM unnest($1::text[], $2::bigint[], $2::bigint[], $3::json[])
       RETURNING id, channel, first_seq, created_at`;

/** Times `warmup + rounds` single-event outbox transactions on `channel`; summary of the measured ones. */
export async function measureRawOutboxWrite(databaseUrl, channel, makePayload, { rounds, warmup }) {
  // A pool, like the service's data source: a connection is checked out per transaction.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const samples = [];
  try {
    for (let i = 0; i < warmup + rounds; i++) {
      const start = process.hrtime.bigint();
      await writeOne(pool, channel, makePayload(i, start));
      if (i >= warmup) samples.push(msSince(start));
    }
  } finally {
    await pool.end();
  }
  return summarize(samples);
}

async function writeOne(pool, channel, payload) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query(NEXT_SEQ, [[channel], [1]]);
    await client.query(INSERT_EVENT, [[channel], [rows[0].seq], [JSON.stringify([{ event: 'bench', payload }])]]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
