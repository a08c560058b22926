// The schema comes from migrations alone: they apply to an empty database, revert completely, apply
// again, and the entities describe exactly what they create (migration:generate finds nothing).
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dataSourceOptions } from '../../src/core/database/data-source.js';
import { runMigrations } from '../../src/core/database/migrate.js';
import { MIGRATIONS } from '../../migrations/index.js';
import { OutboxWrites1733030400000 } from '../../migrations/1733030400000-outbox-writes.js';
import { createDatabase, dropDatabase } from '../setup/infrastructure.js';

const name = `cashier_schema_${randomBytes(4).toString('hex')}`;
let url: string;

function entityFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entityFiles(path);
    return entry.name.endsWith('.entity.ts') ? [path] : [];
  });
}

async function tables(source: DataSource): Promise<string[]> {
  const rows: { table_name: string }[] = await source.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations' ORDER BY 1`,
  );
  return rows.map((r) => r.table_name);
}

beforeAll(async () => {
  url = await createDatabase(inject('databaseServerUrl'), name);
});

afterAll(async () => {
  await dropDatabase(inject('databaseServerUrl'), name);
});

describe('migrations', () => {
  it('apply, revert completely and apply again', async () => {
    const settings = { url, poolSize: 1, connectTimeoutMs: 10_000 };
    expect(await runMigrations(settings)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await runMigrations(settings)).toEqual([]);

    const source = new DataSource({ ...dataSourceOptions(settings), entities: [] });
    await source.initialize();
    try {
      expect(await tables(source)).toEqual(expect.arrayContaining(['api_keys', 'refresh_tokens', 'sessions', 'users']));
      for (let i = 0; i < MIGRATIONS.length; i += 1) await source.undoLastMigration();
      expect(await tables(source)).toEqual([]);
    } finally {
      await source.destroy();
    }
    expect(await runMigrations(settings)).toHaveLength(MIGRATIONS.length);
  });

  it('move outbox events into per-channel runs and back without losing one', async () => {
    const fresh = `cashier_outbox_${randomBytes(4).toString('hex')}`;
    const freshUrl = await createDatabase(inject('databaseServerUrl'), fresh);
    const options = dataSourceOptions({ url: freshUrl, poolSize: 1, connectTimeoutMs: 10_000 });
    // The outbox-writes migration and those before it (later ones leave the outbox alone).
    const writesAt = MIGRATIONS.indexOf(OutboxWrites1733030400000);
    const before = new DataSource({ ...options, entities: [], migrations: MIGRATIONS.slice(0, writesAt) });
    const events = async (source: DataSource) =>
      (
        await source.query(`SELECT channel, seq::int, event, payload::text FROM outbox_events ORDER BY channel, seq`)
      ).map((r: { channel: string; seq: number; event: string; payload: string }) => Object.values(r));
    try {
      await before.initialize();
      await before.runMigrations();
      // Three events of one statement (one of them never emitted) and one of another.
      await before.query(`INSERT INTO channel_seq (channel, seq) VALUES ('a', 3), ('b', 1)`);
      await before.query(`
        INSERT INTO outbox_events (channel, seq, event, payload)
        VALUES ('a', 1, 'one', '{"z":1,"a":2}'), ('a', 2, 'two', '{}'), ('b', 1, 'three', '[1]')`);
      await before.query(
        `INSERT INTO outbox_events (channel, seq, event, payload) VALUES ('a', 3, 'four', '{"x":null}')`,
      );
      await before.query(`DELETE FROM outbox_unsent WHERE cardinality(event_ids) = 1`);
      const original = await events(before);
      expect(original).toHaveLength(4);
      await before.destroy();

      const after = new DataSource({ ...options, entities: [], migrations: MIGRATIONS.slice(0, writesAt + 1) });
      await after.initialize();
      try {
        expect(await after.runMigrations()).toHaveLength(1);
        expect(await events(after)).toEqual(original);
        const unsent = await after.query(
          `SELECT count(*)::int AS n FROM outbox_events o JOIN outbox_unsent u ON o.write_id = ANY(u.write_ids)`,
        );
        expect(unsent[0].n).toBe(3);
        // Written after the move: one run of two events.
        await after.query(`UPDATE channel_seq SET seq = 5 WHERE channel = 'a'`);
        await after.query(`
          INSERT INTO outbox_writes (channel, first_seq, last_seq, events)
          VALUES ('a', 4, 5, '[{"event":"five","payload":{"k":5}},{"event":"six","payload":6}]')`);
        const moved = await events(after);
        expect(moved).toHaveLength(6);

        await after.undoLastMigration();
        expect(await events(after)).toEqual(moved);
        const rows = await after.query(`SELECT count(*)::int AS n FROM outbox_events`);
        expect(rows[0].n).toBe(6);
        const stillUnsent = await after.query(
          `SELECT count(*)::int AS n FROM outbox_events o JOIN outbox_unsent u ON o.id = ANY(u.event_ids)`,
        );
        expect(stillUnsent[0].n).toBe(5);
      } finally {
        await after.destroy();
      }
    } finally {
      if (before.isInitialized) await before.destroy();
      await dropDatabase(inject('databaseServerUrl'), fresh);
    }
  });

  it('run once when several instances start at the same time', async () => {
    const fresh = `cashier_race_${randomBytes(4).toString('hex')}`;
    const freshUrl = await createDatabase(inject('databaseServerUrl'), fresh);
    try {
      const settings = { url: freshUrl, poolSize: 1, connectTimeoutMs: 10_000 };
      const results = await Promise.all([1, 2, 3, 4].map(() => runMigrations(settings)));
      expect(results.flat()).toHaveLength(MIGRATIONS.length);
    } finally {
      await dropDatabase(inject('databaseServerUrl'), fresh);
    }
  });

  it('match the entities exactly (nothing for migration:generate to write)', async () => {
    const entities = await Promise.all(
      entityFiles(join(process.cwd(), 'src')).map(async (file) => Object.values<unknown>(await import(file))),
    );
    const classes = entities.flat().filter((value): value is () => void => typeof value === 'function');
    expect(classes.length).toBeGreaterThan(0);
    const source = new DataSource({
      ...dataSourceOptions({ url, poolSize: 1, connectTimeoutMs: 10_000 }),
      entities: classes,
    });
    await source.initialize();
    try {
      const pending = await source.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await source.destroy();
    }
  });
});
