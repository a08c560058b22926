// Which queued postings run together, and when (posting-queue.ts runs them). Transactions in
// flight at once never share an account a batch already knows it will lock: a posting whose
// accounts a running transaction holds waits for the next batch. Two lanes that shared accounts
// would run one after the other (the second waits on the first's row locks until it commits), and
// uniform traffic over a thousand users makes such a share near certain: 64 transfers lock about
// 130 accounts. (A posting held back may be overtaken by a later one on another of its accounts;
// both were in flight at once, so neither was promised to go first.)
import { randomInt } from 'node:crypto';
import { HOT_ACCOUNT_SHARDS } from '../accounts/accounts.service.js';
import type { PostingOrder, Receipt } from './posting-order.js';

/** A posting of a batch: its order, the wallets known before its transaction, whether it runs alone. */
export interface Posting {
  order: PostingOrder;
  /** Ids of the order's wallets known before its transaction (committed ones). */
  wallets: ReadonlyMap<string, string>;
  /** Runs in a transaction of its own: a wallet of it is not known yet, or a batch it was in failed. */
  alone: boolean;
}

export interface Queued extends Posting {
  /** performance.now() at submit(); kept when the posting is queued again. */
  submittedAt: number;
  resolve(receipt: Receipt): void;
  reject(error: unknown): void;
}

/** A batch taken to run: its lane, the shard spread of that lane, the accounts it will lock. */
export interface Taken {
  lane: number;
  spread: number;
  batch: Queued[];
  accounts: string[];
  /** A batch of postings that need not run alone (it holds one of the batches' lanes). */
  isBatch: boolean;
}

/** Postings per transaction at most: enough to amortize it, small enough to keep lock times short. */
const MAX_BATCH = 64;
/**
 * Transactions in flight at once: LEDGER_BATCH_LANES of batches, and one more for postings that run
 * alone (a wallet not known yet, a posting of a failed batch run again), so that such a posting,
 * which takes a round trip or two more, never holds up every other behind it; at most half the
 * pool, which keeps connections for everything else. Fewer batches at once make bigger batches and
 * fewer transactions: on 2 cores, at 8 transfers in flight, two lanes of batches gave 0.51–0.57×
 * the bare server's throughput and one 0.66–0.77×, with less CPU per transfer in both processes
 * (bench/ledger); at 256 in flight one runner had posted ~20 % more than four.
 */
const ALONE_LANES = 1;

export class PostingLanes {
  private queue: Queued[] = [];
  /** Transactions allowed in flight at once (the lanes). */
  private readonly maxRunning: number;
  /** Batches (of postings that need not run alone) running now; at most maxBatches. */
  private batchesRunning = 0;
  /** Accounts of the transactions running now (how many of them hold each). */
  private readonly busy = new Map<string, number>();
  /** Lanes free to run a transaction; a lane's spread is `spreadBase + lane`. */
  private readonly freeLanes: number[];
  /** Random per process, so instances tend to pick different shards too. */
  private readonly spreadBase = randomInt(HOT_ACCOUNT_SHARDS);

  /**
   * `accountIdsOf`: the accounts a queued posting will lock in a transaction of `spread` (those
   * known before it).
   */
  constructor(
    private readonly maxBatches: number,
    poolSize: number,
    private readonly accountIdsOf: (queued: Queued, spread: number) => string[],
  ) {
    this.maxRunning = Math.max(1, Math.min(maxBatches + ALONE_LANES, Math.floor(poolSize / 2)));
    this.freeLanes = Array.from({ length: this.maxRunning }, (_, lane) => lane);
  }

  /** Nothing queued and nothing running. */
  get idle(): boolean {
    return this.freeLanes.length === this.maxRunning && this.queue.length === 0;
  }

  push(...queued: Queued[]): void {
    this.queue.push(...queued);
  }

  /** Puts postings back at the head of the queue (a failed batch's, each to run alone). */
  putBack(queued: Queued[]): void {
    this.queue.unshift(...queued);
  }

  /** The next batch to run in a free lane, marked running (release() when it ends); none if none may. */
  next(): Taken | undefined {
    if (this.freeLanes.length === 0 || this.queue.length === 0) return undefined;
    const lane = this.freeLanes[this.freeLanes.length - 1];
    const spread = this.spreadBase + lane;
    // While the batches' lanes are all taken, another takes only a posting that runs alone.
    const full = this.batchesRunning >= this.maxBatches;
    let batch = full ? this.takeAlone() : this.take(spread, true);
    if (batch.length === 0 && full) return undefined;
    // When every queued posting needs an account a running transaction holds (all into one
    // receiver), the batch is taken anyway: it waits on the row locks and starts once they go.
    if (batch.length === 0) batch = this.take(spread, false);
    const isBatch = !batch[0].alone;
    if (isBatch) this.batchesRunning += 1;
    this.freeLanes.pop();
    const accounts = batch.flatMap((queued) => this.accountIdsOf(queued, spread));
    for (const id of accounts) this.busy.set(id, (this.busy.get(id) ?? 0) + 1);
    return { lane, spread, batch, accounts, isBatch };
  }

  /** A batch next() took has ended: its lane and accounts are free. */
  release(taken: Taken): void {
    for (const id of taken.accounts) {
      const holders = this.busy.get(id)! - 1;
      if (holders === 0) this.busy.delete(id);
      else this.busy.set(id, holders);
    }
    this.freeLanes.push(taken.lane);
    if (taken.isBatch) this.batchesRunning -= 1;
  }

  /**
   * The next batch: the head of the queue alone if it must run alone; otherwise every shareable
   * posting up to MAX_BATCH, in order, but never two with the same idempotency key (the second
   * must see the first committed, to replay it). With `avoidBusy`, not those touching an account
   * a running transaction holds either. Takes nothing off the queue when the batch is empty.
   */
  private take(spread: number, avoidBusy: boolean): Queued[] {
    if (this.queue[0].alone) return [this.queue.shift()!];
    const batch: Queued[] = [];
    const rest: Queued[] = [];
    const keys = new Set<string>();
    for (const queued of this.queue) {
      const claim = queued.order.idempotency;
      const key = claim && `${claim.userId}/${claim.key}`;
      const free = !avoidBusy || !this.accountIdsOf(queued, spread).some((id) => this.busy.has(id));
      if (batch.length < MAX_BATCH && !queued.alone && free && !(key && keys.has(key))) {
        batch.push(queued);
        if (key) keys.add(key);
      } else {
        rest.push(queued);
      }
    }
    if (batch.length > 0) this.queue = rest;
    return batch;
  }

  /** The first queued posting that runs alone, as a batch of its own; none when there is none. */
  private takeAlone(): Queued[] {
    const index = this.queue.findIndex((queued) => queued.alone);
    return index < 0 ? [] : this.queue.splice(index, 1);
  }
}
