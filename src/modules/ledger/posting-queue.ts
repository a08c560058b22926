// Postings that arrive together share one transaction. A transaction costs about as much for
// twenty postings as for one (an idempotency statement, a lock statement, one write, one outbox
// write, a commit), and a hot account (a popular receiver, a fee shard) is locked once per batch
// instead of once per posting. At low load every posting runs alone and at once: nothing waits
// for a batch to fill; batches form only from what queued while the previous ones ran.
//
// Which postings run together, in how many transactions at once, is posting-lanes.ts's.
//
// Each posting still stands or falls alone. A refused one (insufficient balance, locked account)
// writes nothing, gives its idempotency key back, and the others go ahead. An unexpected failure
// re-runs every posting of the batch on its own, so only the culprit fails.
//
// A batch of one and a batch of sixty take the same path: claim the keys, lock the holds taken and
// the accounts, check and apply each posting, write them in one statement (all three in a
// LedgerBatch, ledger-batch.ts, whose write announces them), settle the keys. So does a posting made in a
// caller's transaction (post(): a payment's completion, an adjustment), as a batch of one. The
// write, the key settlement, the outbox write and the COMMIT go out together (sql.ts send()): one
// round trip. A posting naming a wallet whose id is not known yet (a recipient's first credit in a
// currency) runs alone and finds or opens it inside.
//
// A posting whose request is still being admitted (its rate limit counted in Redis meanwhile,
// PostingOrder.admitted) starts at once only when nothing else is queued or running, so it runs
// as a batch of one; its transaction waits for the verdict before the COMMIT, and a refusal rolls it
// back. When the queue is busy it waits for the verdict before it queues: no batch waits for one.
//
// When the queue knows the state every account of a batch was left in by its last commit
// (known-states.ts), the batch is applied to that state before its transaction starts and sent
// whole at once: BEGIN, the keys claimed as unused, the lock with the state expected
// (LedgerService.lockExpected), the write, the settlement, the outbox write, COMMIT; one round
// trip, where reading first takes two (three with keys). The database checks the expectation under
// the lock: an account moved on by someone else fails the transaction, and the batch is sent once
// more on the state the lock found; a key used before, or a second miss, and it runs the ordinary
// way. So does a batch in which a posting would be refused: a refusal is only ever decided on state
// read under the lock.
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../../core/config/app-config.js';
import { RolledBackAtCommit, Transactions } from '../../core/database/transactions.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { AccountsService, HOT_ACCOUNT_SHARDS } from '../accounts/accounts.service.js';
import { IdempotencyService, isKeyTaken, type KeyOutcome } from '../idempotency/idempotency.service.js';
import { KnownStates } from './known-states.js';
import { movedAccountsOf } from './expected-lock.js';
import { batchPaths, batchSize, queueWait } from './posting-queue.metrics.js';
import { accountIdOf, findWallets, requestOf } from './posting-resolution.js';
import { LedgerService } from './ledger.service.js';
import type { LedgerBatch } from './ledger-batch.js';
import type { AppliedPosting, LockedAccount, PostedJournal, PostingRequest } from './ledger.types.js';
import { walletKey, walletsOf, type PostingOrder, type Receipt } from './posting-order.js';
import { PostingLanes, type Posting, type Queued, type Taken } from './posting-lanes.js';

/** A posting's outcome: its receipt (and its journal, unless the receipt is a key's replay), its refusal, or "again". */
type Outcome = { receipt: Receipt; posted?: PostedJournal } | { refused: DomainError } | { again: true };

/** What a batch's transaction decided, and the state it left its accounts in if it commits. */
interface Executed {
  outcomes: Outcome[];
  accounts: ReadonlyMap<string, LockedAccount>;
}

/** A batch applied to the states the queue knows: what to expect under the lock, what to write. */
interface Planned {
  expected: LockedAccount[];
  applied: { index: number; posting: AppliedPosting }[];
  ledger: LedgerBatch;
}

/** The queue's transactions: its prepared statements are planned once per connection (transactions.ts). */
const PLANNED_ONCE = { genericPlans: true };

/** A posting whose request was refused (its rate limit) while it ran: rolled back, never answered. */
const notAdmitted = () => new DomainError('RATE_LIMIT_EXCEEDED', 'the request was not admitted');

const receiptOf = (posted: PostedJournal, request: PostingRequest): Receipt => ({
  receipt_code: posted.receiptCode,
  journal_id: Number(posted.journalId),
  created_at: posted.createdAt.toISOString(),
  metadata: request.metadata ?? {},
});

@Injectable()
export class PostingQueue implements BeforeApplicationShutdown {
  private readonly logger = new Logger(PostingQueue.name);
  private readonly lanes: PostingLanes;
  private idle?: () => void;
  /** The accounts' states as this process's last commits left them. */
  private readonly known = new KnownStates();

  constructor(
    private readonly transactions: Transactions,
    private readonly ledger: LedgerService,
    private readonly accounts: AccountsService,
    private readonly idempotency: IdempotencyService,
    config: AppConfig,
  ) {
    this.lanes = new PostingLanes(config.env.LEDGER_BATCH_LANES, config.env.DATABASE_POOL_SIZE, (queued, spread) =>
      this.accountIdsOf(queued, spread),
    );
  }

  /**
   * Posts `order` (alone or with others), announced by the ledger; resolves to its receipt once
   * committed, or to the receipt its idempotency key stored before. A refusal rejects with it.
   */
  async submit(order: PostingOrder): Promise<Receipt> {
    // A split account that does not exist is refused here, before the queue needs its shards.
    for (const { account } of order.lines) {
      if ('split' in account) this.accounts.systemAccount(account.split, account.currency);
    }
    const wallets = await this.knownWallets(order);
    const alone = walletsOf(order).some(({ userId, currency }) => !wallets.has(walletKey(userId, currency)));
    // A request still being admitted starts only when it would run at once, in a batch of its own
    // (its transaction waits for the verdict before COMMIT, finish()); otherwise it waits here, so
    // that a batch never waits for one, nor fails with it.
    if (order.admitted && !this.lanes.idle) {
      if (!(await order.admitted)) throw notAdmitted();
      order = { ...order, admitted: undefined };
    }
    return new Promise<Receipt>((resolve, reject) => {
      this.lanes.push({ order, wallets, alone, submittedAt: performance.now(), resolve, reject });
      this.pump();
    });
  }

  /**
   * Posts `order` in the caller's transaction `tx`, as a batch of one (execute()): a refusal
   * throws, and `tx` rolls back. The queue cannot tell whether `tx` commits, so what it knows of
   * these accounts stays as it was: a batch planned on it finds them moved on under the lock and
   * goes again on the state found. An order with an idempotency key goes through submit().
   */
  async post(tx: EntityManager, order: PostingOrder): Promise<PostedJournal> {
    if (order.idempotency) throw new Error('post() takes no idempotency key: submit() replays keys');
    const { outcomes } = await this.execute(
      tx,
      [{ order, wallets: new Map(), alone: true }],
      randomInt(HOT_ACCOUNT_SHARDS),
    );
    const [outcome] = outcomes;
    if (!('posted' in outcome) || !outcome.posted) throw new Error('post() wrote no journal');
    return outcome.posted;
  }

  /** Lets queued and running postings finish before the database pool closes. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.lanes.idle) return;
    await new Promise<void>((resolve) => {
      this.idle = resolve;
    });
  }

  /** The committed wallets the order names, from the accounts' memory (one read per unknown currency). */
  private async knownWallets(order: PostingOrder): Promise<Map<string, string>> {
    const byCurrency = new Map<string, string[]>();
    for (const { userId, currency } of walletsOf(order)) {
      byCurrency.set(currency, [...(byCurrency.get(currency) ?? []), userId]);
    }
    const known = new Map<string, string>();
    for (const [currency, users] of byCurrency) {
      const ids = await this.accounts.committedWalletIds(users, currency);
      users.forEach((userId, i) => {
        if (ids[i]) known.set(walletKey(userId, currency), ids[i]);
      });
    }
    return known;
  }

  /** The accounts a queued posting will lock in a transaction of `spread` (known ones only). */
  private accountIdsOf(queued: Queued, spread: number): string[] {
    const ids: string[] = [];
    for (const { account } of queued.order.lines) {
      const id = accountIdOf(this.accounts, account, queued.wallets, spread);
      if (id) ids.push(id);
    }
    return ids;
  }

  private pump(): void {
    for (let taken = this.lanes.next(); taken; taken = this.lanes.next()) this.start(taken);
  }

  /** Runs a batch the lanes gave, then frees its lane and takes what waits. */
  private start(taken: Taken): void {
    void this.run(taken.batch, taken.spread, taken.accounts).finally(() => {
      this.lanes.release(taken);
      this.pump();
      if (this.lanes.idle) this.idle?.();
    });
  }

  /** Runs `batch` in a transaction of `spread`; `ids`: the accounts it will lock (accountIdsOf). */
  private async run(batch: Queued[], spread: number, ids: readonly string[]): Promise<void> {
    batchSize.observe(batch.length);
    const started = performance.now();
    for (const queued of batch) queueWait.observe((started - queued.submittedAt) / 1000);
    let executed: Executed | undefined;
    try {
      // Known states that turn out moved on are updated from what the lock found, and the batch
      // planned once more on them; a second miss, or a key used before, and it runs the ordinary way.
      for (let attempt = 0; attempt < 2 && !executed; attempt += 1) {
        const planned = this.plan(batch, spread, ids);
        if (!planned) break;
        const ran = await this.runPlanned(batch, planned);
        batchPaths.inc({ path: typeof ran === 'object' ? 'expected' : 'expected_missed' });
        if (typeof ran === 'object') executed = ran;
        else if (ran === 'key taken') break;
      }
      if (!executed) {
        executed = await this.transactions.run((tx) => this.execute(tx, batch, spread), PLANNED_ONCE);
        batchPaths.inc({ path: 'read' });
      }
    } catch (error) {
      this.known.forget(ids);
      if (batch.length === 1) return batch[0].reject(error);
      this.logger.warn({ err: error, postings: batch.length }, 'batch failed; its postings run again one by one');
      this.lanes.putBack(batch.map((queued) => ({ ...queued, alone: true })));
      return;
    }
    const { outcomes, accounts } = executed;
    this.known.remember(accounts.values());
    outcomes.forEach((outcome, i) => {
      const queued = batch[i];
      if ('receipt' in outcome) queued.resolve(outcome.receipt);
      else if ('refused' in outcome) queued.reject(outcome.refused);
      else this.lanes.push({ ...queued, alone: true });
    });
  }

  /**
   * The batch applied to the states the queue knows, before any transaction: undefined unless it
   * knows every account's, and when a posting would be refused (only state read under the lock
   * may refuse one).
   */
  private plan(batch: Queued[], spread: number, ids: readonly string[]): Planned | undefined {
    if (batch.some((queued) => queued.alone)) return undefined;
    const expected = this.known.copiesOf(new Set(ids));
    if (!expected) return undefined;
    const ledger = this.ledger.batch(new Map([...expected].map(([id, account]) => [id, { ...account }])));
    const applied: Planned['applied'] = [];
    for (const [index, { order, wallets }] of batch.entries()) {
      try {
        applied.push({
          index,
          posting: ledger.post(requestOf(this.accounts, order, wallets, ledger.accounts, spread)),
        });
      } catch (error) {
        if (error instanceof DomainError) return undefined;
        throw error;
      }
    }
    return { expected: [...expected.values()], applied, ledger };
  }

  /**
   * Sends a planned batch whole (see the top of this file). When the database found an account not
   * as expected, what it found is now known ('moved'); 'key taken' when a key was used before.
   */
  private async runPlanned(batch: Queued[], planned: Planned): Promise<Executed | 'moved' | 'key taken'> {
    try {
      return await this.transactions.run(async (tx) => {
        void this.idempotency.claimUnused(
          tx,
          batch.map((queued) => queued.order.idempotency),
        );
        void this.ledger.lockExpected(tx, planned.expected);
        const outcomes = await this.finish(tx, batch, planned.ledger, planned.applied, [], []);
        return { outcomes, accounts: planned.ledger.accounts };
      }, PLANNED_ONCE);
    } catch (error) {
      const cause = error instanceof RolledBackAtCommit ? error.cause : undefined;
      if (isKeyTaken(cause)) return 'key taken';
      const moved = movedAccountsOf(cause);
      if (!moved) throw error;
      if (moved.length > 0) this.known.update(moved);
      else this.known.forget(planned.expected.map((account) => account.id));
      return 'moved';
    }
  }

  /** One transaction for `batch`: claims, wallets, locks, checks and applies, then finish(). */
  private async execute(tx: EntityManager, batch: readonly Posting[], spread: number): Promise<Executed> {
    const outcomes: Outcome[] = [];
    const claims = await this.idempotency.claim<Receipt>(
      tx,
      batch.map((queued) => queued.order.idempotency),
    );
    const live: number[] = [];
    for (const [i, claim] of claims.entries()) {
      if (claim.fresh) live.push(i);
      else if ('response' in claim) outcomes[i] = { receipt: claim.response };
      else if ('refused' in claim) outcomes[i] = { refused: claim.refused };
      // The same key twice in one batch (take() avoids it): again, once the first committed.
      else outcomes[i] = { again: true };
    }
    if (live.length === 0) return { outcomes, accounts: new Map() };

    const wallets = new Map(live.map((i) => [i, batch[i].wallets]));
    for (const i of live) {
      if (batch[i].alone) wallets.set(i, await findWallets(this.accounts, tx, batch[i].order, batch[i].wallets));
    }
    // Holds taken (a withdrawal's, a deposit's): locked before the accounts, as every taker of holds does.
    const ledger = this.ledger.batch();
    await ledger.lockHolds(
      tx,
      live.flatMap((i) => (batch[i].order.captures ?? []).map((capture) => capture.reference)),
    );
    const ids = live.flatMap((i) =>
      batch[i].order.lines.flatMap(({ account }) => accountIdOf(this.accounts, account, wallets.get(i)!, spread) ?? []),
    );
    await ledger.lock(tx, [...ids, ...[...ledger.holds.values()].map((hold) => hold.accountId)]);
    const applied: { index: number; posting: AppliedPosting }[] = [];
    const keys: KeyOutcome[] = [];
    for (const i of live) {
      const { order } = batch[i];
      try {
        const request = requestOf(this.accounts, order, wallets.get(i)!, ledger.accounts, spread);
        applied.push({ index: i, posting: ledger.post(request) });
      } catch (error) {
        // Alone, a refusal rolls the transaction back (a wallet it opened with it); in a batch it
        // leaves the others be.
        if (batch.length === 1 || !(error instanceof DomainError)) throw error;
        outcomes[i] = { refused: error };
        if (order.idempotency) {
          keys.push({ userId: order.idempotency.userId, key: order.idempotency.key, abandoned: true });
        }
      }
    }
    return { outcomes: await this.finish(tx, batch, ledger, applied, outcomes, keys), accounts: ledger.accounts };
  }

  /**
   * The end of a batch's transaction: the write of what was applied and the keys' settlement, both
   * sent and not awaited (they go out with the outbox write and the COMMIT); the outcomes, once
   * every posting's request is admitted (PostingOrder.admitted; a refusal rolls the batch back).
   */
  private async finish(
    tx: EntityManager,
    batch: readonly Posting[],
    ledger: LedgerBatch,
    applied: readonly { index: number; posting: AppliedPosting }[],
    outcomes: Outcome[],
    keys: KeyOutcome[],
  ): Promise<Outcome[]> {
    // The batch's changes are exactly the applied postings, in order (a refused one left none).
    const { posted } = await ledger.sendWrite(tx);
    applied.forEach(({ index, posting }, n) => {
      const receipt = receiptOf(posted[n], posting.request);
      outcomes[index] = { receipt, posted: posted[n] };
      const claim = batch[index].order.idempotency;
      if (claim) keys.push({ userId: claim.userId, key: claim.key, response: receipt });
    });
    void this.idempotency.settle(tx, keys);
    for (const { order } of batch) {
      if (order.admitted && !(await order.admitted)) throw notAdmitted();
    }
    return outcomes;
  }
}
