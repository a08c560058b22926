// Journal ids taken from the journals' sequence ahead of the postings that use them, a block at a
// time. A posting then knows its journal's id and receipt code before anything is written, so the
// events that name them are built with the posting and the write, the outbox write and the COMMIT
// go out together (posting-queue.ts). Ids handed out stay unique (they come from the sequence);
// ids a process had taken but not used when it stops leave gaps in receipt numbers, as a rolled
// back transaction always did. Within a process they are handed out in ascending order.
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { prepared, sql } from '../../core/database/sql.js';

const TAKE_IDS = prepared(
  'journal_ids_take',
  `SELECT nextval(pg_get_serial_sequence('journals', 'id')) AS id FROM generate_series(1, $1::int)`,
);

/** Ids fetched at once; a block is fetched ahead, in the background, when fewer than LOW are left. */
const BLOCK = 64;
const LOW = 16;

const ascending = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

@Injectable()
export class JournalIds {
  private readonly logger = new Logger(JournalIds.name);
  private ids: bigint[] = [];
  private fetchingAhead = false;

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * `n` unused journal ids, ascending. When fewer are left, a block is fetched on the connection of
   * `tx` (nextval is not undone by a rollback): a posting holding a connection never waits for
   * another one. When few are left, the next block is fetched ahead on a connection of the pool,
   * which nothing waits for.
   */
  async take(tx: EntityManager, n: number): Promise<bigint[]> {
    while (this.ids.length < n) this.add(await this.fetch(tx, Math.max(BLOCK, n)));
    const taken = this.ids.splice(0, n);
    if (this.ids.length < LOW && !this.fetchingAhead) {
      this.fetchingAhead = true;
      this.fetch(this.db, BLOCK)
        .then((ids) => this.add(ids))
        .catch((error: unknown) => this.logger.warn({ err: error }, 'could not take journal ids ahead'))
        .finally(() => {
          this.fetchingAhead = false;
        });
    }
    return taken;
  }

  private async fetch(on: DataSource | EntityManager, count: number): Promise<bigint[]> {
    const { rows } = await sql<{ id: string }>(on, TAKE_IDS, [count]);
    return rows.map((row) => BigInt(row.id));
  }

  private add(ids: bigint[]): void {
    this.ids = [...this.ids, ...ids].sort(ascending);
  }
}
