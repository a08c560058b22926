// Which postings the queue puts together, and when: with a ledger whose transactions end when the
// test says so. (test/integration/posting-queue.test.ts runs the queue on PostgreSQL.)
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../core/config/app-config.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import type { LedgerService } from './ledger.service.js';
import type { AppliedPosting, PostedJournal, PostingRequest } from './ledger.types.js';
import type { Transactions } from '../../core/database/transactions.js';
import type { AccountsService } from '../accounts/accounts.service.js';
import type { PostingOrder } from './posting-order.js';
import { PostingQueue } from './posting-queue.js';

/**
 * A ledger whose transactions each wait in their write until `end(n)` lets the n-th go; the queue
 * runs `batchLanes` batches at once (LEDGER_BATCH_LANES).
 */
function heldLedger(batchLanes = 2) {
  const transactions: { names: string[]; release: () => void }[] = [];
  const sendWrite = (postings: AppliedPosting[]): Promise<{ posted: PostedJournal[]; written: Promise<unknown> }> =>
    new Promise((resolve) => {
      transactions.push({
        names: postings.map((p) => p.request.description),
        release: () =>
          resolve({
            posted: postings.map(
              (p) => ({ receiptCode: p.request.description, journalId: '1', createdAt: new Date() }) as PostedJournal,
            ),
            written: Promise.resolve(),
          }),
      });
    });
  // Its batches (ledger-batch.ts) lock nothing and apply every posting as it comes.
  const ledger = {
    batch: () => {
      const changes: AppliedPosting[] = [];
      return {
        accounts: new Map(),
        holds: new Map(),
        changes,
        lock: () => Promise.resolve(),
        lockHolds: () => Promise.resolve(),
        post: (request: PostingRequest): AppliedPosting => {
          const applied = { request, entries: [], accounts: new Map(), holds: [] };
          changes.push(applied);
          return applied;
        },
        sendWrite: () => sendWrite(changes),
      };
    },
  };
  const idempotency = {
    claim: (_tx: unknown, claims: unknown[]) => Promise.resolve(claims.map(() => ({ fresh: true }))),
    settle: () => Promise.resolve(),
  };
  // Every user's wallet is known, and its id is the user's: a test names accounts by their ids;
  // but a wallet named `new…` is not known before its transaction, so its posting runs alone.
  const accounts = {
    committedWalletIds: (users: string[]) => Promise.resolve(users.map((id) => (id.startsWith('new') ? '' : id))),
    walletId: (_tx: unknown, user: string) => Promise.resolve(user),
  };
  const config = { env: { DATABASE_POOL_SIZE: 10, LEDGER_BATCH_LANES: batchLanes } } as AppConfig;
  const runner = { run: <T>(work: (tx: unknown) => Promise<T>) => work({}) };
  const queue = new PostingQueue(
    runner as unknown as Transactions,
    ledger as unknown as LedgerService,
    accounts as unknown as AccountsService,
    idempotency as unknown as IdempotencyService,
    config,
  );
  return { queue, transactions };
}

/** A posting on `accounts` (wallets, by id) that answers its own name. */
const job = (name: string, accounts: string[]): PostingOrder => ({
  type: 'TRANSACTION_TYPE_TRANSFER',
  description: name,
  initiatedBy: 'test',
  lines: accounts.map((id) => ({
    account: { wallet: id, currency: 'USD', field: 'currency' },
    direction: 'CR' as const,
    amount: 1n,
    description: name,
  })),
});

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('posting queue: transactions at once', () => {
  it('holds a posting back while a running transaction has one of its accounts, and takes the others', async () => {
    const { queue, transactions } = heldLedger();
    const done: string[] = [];
    const submit = (name: string, accounts: string[]) =>
      queue.submit(job(name, accounts)).then((answer) => done.push(answer.receipt_code));

    void submit('first', ['a', 'b']);
    void submit('other', ['x', 'y']);
    await turn();
    expect(transactions.map((t) => t.names)).toEqual([['first'], ['other']]);

    void submit('again on a', ['a', 'c']);
    void submit('free', ['d', 'e']);
    transactions[1].release(); // `other` ends while `first` still holds a and b
    await turn();
    expect(transactions[2].names).toEqual(['free']);

    transactions[0].release();
    await turn();
    expect(transactions[3].names).toEqual(['again on a']);
    transactions[2].release();
    transactions[3].release();
    await turn();
    expect(done).toEqual(['other', 'first', 'free', 'again on a']);
  });

  it('still runs a batch when every queued posting waits for a running one (all into one receiver)', async () => {
    const { queue, transactions } = heldLedger();
    void queue.submit(job('one', ['a', 'hot']));
    void queue.submit(job('two', ['b', 'hot']));
    void queue.submit(job('three', ['c', 'hot']));
    await turn();
    // `two` waits on the row lock of `hot` in PostgreSQL, and starts the moment `one` commits.
    expect(transactions.map((t) => t.names)).toEqual([['one'], ['two']]);
    transactions[0].release();
    await turn();
    expect(transactions[2].names).toEqual(['three']);
    for (const t of transactions) t.release();
  });

  it('runs one batch at a time by default, and a posting that must run alone beside it', async () => {
    const { queue, transactions } = heldLedger(1);
    void queue.submit(job('first', ['a', 'b']));
    await turn();
    void queue.submit(job('second', ['c', 'd']));
    void queue.submit(job('third', ['e', 'f']));
    void queue.submit(job('opens a wallet', ['new-g', 'h']));
    await turn();
    // `second` and `third` wait for the next batch; the posting that runs alone does not.
    expect(transactions.map((t) => t.names)).toEqual([['first'], ['opens a wallet']]);
    transactions[0].release();
    await turn();
    expect(transactions[2].names).toEqual(['second', 'third']);
    for (const t of transactions) t.release();
  });
});
