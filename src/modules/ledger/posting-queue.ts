// Postings that arrive together share one transaction. A transaction costs about as much for
// twenty postings as for one (an idempotency statement, a lock statement, one write, one outbox
// write, a commit), and a hot account (a popular receiver, a fee shard) is locked once per batch
// instead of once per posting. At low load every posting runs alone and at once: nothing waits
// for a batch to fill; batches form only from what queued while the previous ones ran.
//
// Transactions in flight at once never share an account a batch already knows it will lock: a
// posting whose accounts a running batch holds waits for the next batch. Two lanes that shared
// accounts would run one after the other (the second waits on the first's row locks until it
// commits), and uniform traffic over a thousand users makes such a share near certain: 64
// transfers lock about 130 accounts. (A posting held back may be overtaken by a later one on
// another of its accounts; both were in flight at once, so neither was promised to go first.)
//
// Each posting still stands or falls alone. A refused one (insufficient balance, locked account)
// writes nothing, gives its idempotency key back, and the others go ahead. An unexpected failure
// re-runs every posting of the batch on its own, so only the culprit fails.
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { Histogram } from 'prom-client';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../../core/config/app-config.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { metricOnce } from '../../core/metrics/metric-once.js';
import { HOT_ACCOUNT_SHARDS } from '../accounts/accounts.service.js';
import { IdempotencyService, type KeyClaim, type KeyOutcome } from '../idempotency/idempotency.service.js';
import { LedgerService } from './ledger.service.js';
import type { AppliedPosting, LockedAccount, PostedJournal, PostingRequest } from './ledger.types.js';

/**
 * A posting to run: which accounts it needs, how to build it, and what to answer. `spread` is the
 * transaction's pick among the shards of split hot accounts (fee revenue, FX liquidity): each
 * transaction running at once has its own, so they never wait on each other for those accounts.
 */
export interface PostingJob<R> {
  /** The accounts to lock, known beforehand: the posting may share a transaction. */
  accountIds?: (spread: number) => string[];
  /**
   * Or: finds (and may open) its accounts inside the transaction. The posting then runs alone,
   * and a refusal rolls back whatever this wrote.
   */
  resolveAccounts?: (tx: EntityManager, spread: number) => Promise<string[]>;
  /** Claimed in the same transaction; a key used before replays its stored response. */
  idempotency?: KeyClaim;
  /**
   * The posting, from the locked accounts as the earlier postings of the batch left them; throws
   * a DomainError to refuse. Runs again if the transaction is retried, so it must not keep state.
   */
  plan(accounts: ReadonlyMap<string, LockedAccount>, spread: number): PostingRequest;
  /** After the write, in the transaction: announces events and returns the response. */
  finish(tx: EntityManager, posted: PostedJournal): R;
}

interface Queued {
  job: PostingJob<unknown>;
  /** Run in a transaction of its own (it must, or a batch it was in failed). */
  alone: boolean;
  /** performance.now() at submit(); kept when the posting is queued again. */
  submittedAt: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { value: unknown } | { refused: DomainError } | { again: true };

/** Postings per transaction at most: enough to amortize it, small enough to keep lock times short. */
const MAX_BATCH = 64;
/**
 * Transactions in flight at once, at most; the pool keeps connections for everything else. Fewer
 * runners make bigger batches: on 2 cores 1 runner posted ~20 % more per second than 4 (bench/ledger),
 * and 2 keeps one conversion (which runs alone) from holding up every transfer behind it.
 */
const MAX_RUNNING = 2;

const claimKey = (claim: KeyClaim) => `${claim.userId}/${claim.key}`;

const batchSize = metricOnce(
  'ledger_posting_batch_size',
  () =>
    new Histogram({
      name: 'ledger_posting_batch_size',
      help: 'Postings per transaction of the posting queue (committed or not)',
      buckets: [1, 2, 4, 8, 16, 32, 64],
    }),
);

/**
 * How long a posting waited before the transaction it runs in started: at low load ~0, at high
 * load the time it takes the batches ahead of it to commit. bench/ledger's breakdown reads it to
 * tell queueing from the transaction itself. A posting run again (its batch failed) counts again,
 * from its first submit.
 */
const queueWait = metricOnce(
  'ledger_posting_queue_wait_seconds',
  () =>
    new Histogram({
      name: 'ledger_posting_queue_wait_seconds',
      help: 'Seconds from submit() to the start of the transaction the posting runs in',
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
    }),
);

@Injectable()
export class PostingQueue implements BeforeApplicationShutdown {
  private readonly logger = new Logger(PostingQueue.name);
  private queue: Queued[] = [];
  private running = 0;
  /** Accounts of the batches running now (how many of them hold each). */
  private readonly busy = new Map<string, number>();
  private readonly maxRunning: number;
  /** Lanes free to run a transaction; a lane's spread is `spreadBase + lane`. */
  private readonly freeLanes: number[];
  /** Random per process, so instances tend to pick different shards too. */
  private readonly spreadBase = randomInt(HOT_ACCOUNT_SHARDS);
  private idle?: () => void;

  constructor(
    private readonly ledger: LedgerService,
    private readonly idempotency: IdempotencyService,
    config: AppConfig,
  ) {
    this.maxRunning = Math.max(1, Math.min(MAX_RUNNING, Math.floor(config.env.DATABASE_POOL_SIZE / 2)));
    this.freeLanes = Array.from({ length: this.maxRunning }, (_, lane) => lane);
  }

  /** Runs `job` (alone or with others) and resolves to its response once committed. */
  submit<R>(job: PostingJob<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ job, alone: !job.accountIds, submittedAt: performance.now(), resolve: resolve, reject });
      this.pump();
    });
  }

  /** Lets queued and running postings finish before the database pool closes. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => {
      this.idle = resolve;
    });
  }

  private pump(): void {
    while (this.freeLanes.length > 0 && this.queue.length > 0) {
      const lane = this.freeLanes[this.freeLanes.length - 1];
      const spread = this.spreadBase + lane;
      // When every queued posting needs an account a running batch holds (all into one receiver),
      // the batch is taken anyway: it waits on the row locks and starts the moment they go.
      let batch = this.take(spread, true);
      if (batch.length === 0) batch = this.take(spread, false);
      this.freeLanes.pop();
      this.running += 1;
      const accounts = batch.flatMap((queued) => queued.job.accountIds?.(spread) ?? []);
      for (const id of accounts) this.busy.set(id, (this.busy.get(id) ?? 0) + 1);
      void this.run(batch, spread).finally(() => {
        for (const id of accounts) {
          const holders = this.busy.get(id)! - 1;
          if (holders === 0) this.busy.delete(id);
          else this.busy.set(id, holders);
        }
        this.freeLanes.push(lane);
        this.running -= 1;
        this.pump();
        if (this.running === 0 && this.queue.length === 0) this.idle?.();
      });
    }
  }

  /**
   * The next batch: the head of the queue alone if it must run alone; otherwise every shareable
   * posting up to MAX_BATCH, in order, but never two with the same idempotency key (the second
   * must see the first committed, to replay it). With `avoidBusy`, not those touching an account
   * a running batch holds either. Takes nothing off the queue when the batch is empty.
   */
  private take(spread: number, avoidBusy: boolean): Queued[] {
    if (this.queue[0].alone) return [this.queue.shift()!];
    const batch: Queued[] = [];
    const rest: Queued[] = [];
    const keys = new Set<string>();
    for (const queued of this.queue) {
      const key = queued.job.idempotency && claimKey(queued.job.idempotency);
      const free = !avoidBusy || !queued.job.accountIds?.(spread).some((id) => this.busy.has(id));
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

  private async run(batch: Queued[], spread: number): Promise<void> {
    batchSize.observe(batch.length);
    const started = performance.now();
    for (const queued of batch) queueWait.observe((started - queued.submittedAt) / 1000);
    let outcomes: Outcome[];
    try {
      outcomes = await this.ledger.transaction((tx) => this.execute(tx, batch, spread));
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
      this.logger.warn({ err: error, postings: batch.length }, 'batch failed; its postings run again one by one');
      this.queue.unshift(...batch.map((queued) => ({ ...queued, alone: true })));
      return;
    }
    outcomes.forEach((outcome, i) => {
      const queued = batch[i];
      if ('value' in outcome) queued.resolve(outcome.value);
      else if ('refused' in outcome) queued.reject(outcome.refused);
      else this.queue.push({ ...queued, alone: true });
    });
  }

  /** One transaction for `batch`: claims, locks, plans, one write, responses. */
  private async execute(tx: EntityManager, batch: Queued[], spread: number): Promise<Outcome[]> {
    const alone = batch.length === 1;
    const outcomes: Outcome[] = [];
    const claims = batch.flatMap((queued) => (queued.job.idempotency ? [queued.job.idempotency] : []));
    const claimed = await this.idempotency.claimNew(tx, claims);
    const live: number[] = [];
    for (const [i, { job }] of batch.entries()) {
      const claim = job.idempotency;
      if (!claim || IdempotencyService.claimedNow(claimed, claim)) {
        live.push(i);
      } else if (!alone) {
        // Used before: a replay, a conflict or an expired key, each settled on its own.
        outcomes[i] = { again: true };
      } else {
        const existing = await this.idempotency.claim(tx, claim.userId, claim.key, claim.requestType, claim.hash);
        if (!existing.fresh) return [{ value: existing.response }];
        live.push(i);
      }
    }
    if (live.length === 0) return outcomes;

    const first = batch[live[0]].job;
    const ids =
      alone && first.resolveAccounts
        ? await first.resolveAccounts(tx, spread)
        : live.flatMap((i) => batch[i].job.accountIds?.(spread) ?? []);
    const accounts = await this.ledger.lock(tx, ids);
    const applied: { index: number; posting: AppliedPosting }[] = [];
    const keys: KeyOutcome[] = [];
    for (const i of live) {
      const { job } = batch[i];
      try {
        applied.push({ index: i, posting: this.ledger.apply(accounts, job.plan(accounts, spread)) });
      } catch (error) {
        // Alone, a refusal rolls the transaction back; in a batch it leaves the others be.
        if (alone || !(error instanceof DomainError)) throw error;
        outcomes[i] = { refused: error };
        if (job.idempotency) keys.push({ userId: job.idempotency.userId, key: job.idempotency.key, abandoned: true });
      }
    }
    const posted = await this.ledger.write(
      tx,
      applied.map((a) => a.posting),
    );
    applied.forEach(({ index }, n) => {
      const { job } = batch[index];
      const value = job.finish(tx, posted[n]);
      outcomes[index] = { value };
      if (job.idempotency) keys.push({ userId: job.idempotency.userId, key: job.idempotency.key, response: value });
    });
    await this.idempotency.settle(tx, keys);
    return outcomes;
  }
}
