// After every integration and e2e test: the ledger's invariants hold over the whole test database
// (the same check as GET /api/v1/admin/ledger/check).
import pg from 'pg';
import { afterEach, expect, inject } from 'vitest';
import { checkLedger } from '../../src/modules/ledger/ledger-check.js';

afterEach(async () => {
  const client = new pg.Client({ connectionString: inject('databaseUrl') });
  await client.connect();
  try {
    const report = await checkLedger(
      async <T>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as T[],
    );
    expect(report.problems, 'ledger invariants').toEqual([]);
  } finally {
    await client.end();
  }
});
