// The books this instance holds in memory, one per pair, with the records of their resting orders.
// Several instances share one database: matching on a pair happens under its book row's lock
// (FOR UPDATE), and the row's version says whether this instance's copy is still the current one.
// A copy is reloaded only when another instance (or a failed transaction here) changed the book,
// so a busy instance never reads the whole book per order.
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../../core/config/app-config.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { DepthTracker } from './depth-tracker.js';
import { OrderBook } from './engine/index.js';
import { marketPairs, type MarketPair } from './market-pairs.js';
import { OrdersRepository, type OrderRecord } from './orders.repository.js';

export interface PairBook {
  pair: MarketPair;
  book: OrderBook;
  /** The resting orders' records, by id. */
  records: Map<string, OrderRecord>;
  /** The levels as clients rebuild them, one change at a time (for each update's checksum). */
  depth: DepthTracker;
  /** The book row's version this copy matches. */
  version: bigint;
  /** No order of the pair has a sequence from here on (the book row's next_sequence). */
  nextSequence: bigint;
  /**
   * True from the moment a transaction starts changing the copy until it commits: if it rolls
   * back (or is retried), the copy is ahead of the database and is reloaded.
   */
  stale: boolean;
}

@Injectable()
export class OrderBooks implements OnApplicationBootstrap {
  readonly pairs: ReadonlyMap<string, MarketPair>;
  private readonly books = new Map<string, PairBook>();

  constructor(
    private readonly repository: OrdersRepository,
    config: AppConfig,
  ) {
    this.pairs = marketPairs(config.business);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.repository.ensureBooks([...this.pairs.keys()]);
  }

  /** The pair's configuration, or UNKNOWN_PAIR. */
  pair(symbol: unknown): MarketPair {
    const pair = typeof symbol === 'string' ? this.pairs.get(symbol) : undefined;
    if (!pair) {
      throw new DomainError('UNKNOWN_PAIR', `unknown pair: expected one of ${[...this.pairs.keys()].join(', ')}`, {
        field: 'pair',
      });
    }
    return pair;
  }

  /**
   * Locks the pair's book row for the rest of `tx` and returns this instance's copy of the book,
   * reloaded first if it is not the current one.
   */
  async acquire(tx: EntityManager, symbol: string): Promise<PairBook> {
    const pair = this.pair(symbol);
    const { version, nextSequence } = await this.repository.lockBook(tx, symbol);
    const held = this.books.get(symbol);
    if (held && !held.stale && held.version === version) return held;
    const resting = await this.repository.restingOrders(tx, symbol);
    const book = new OrderBook(pair.rules);
    book.restore(
      resting.map((order) => ({
        id: order.id,
        ownerId: order.userId,
        side: order.side,
        type: 'limit' as const,
        price: order.price!,
        amount: order.amount,
        remaining: order.amount - order.filled,
        sequence: order.sequence,
        timeInForce: 'gtc' as const,
        postOnly: order.postOnly,
      })),
      nextSequence,
    );
    const loaded: PairBook = {
      pair,
      book,
      records: new Map(resting.map((order) => [order.id, order])),
      depth: new DepthTracker(book.depth()),
      version,
      nextSequence,
      stale: false,
    };
    this.books.set(symbol, loaded);
    return loaded;
  }

  /** After the transaction that changed `copy` committed: it matches the database again. */
  committed(copy: PairBook): void {
    if (this.books.get(copy.pair.symbol) === copy) copy.stale = false;
  }

  /** The copy held for a pair without locking anything (may be behind), if any. */
  peek(symbol: string): PairBook | undefined {
    const held = this.books.get(symbol);
    return held && !held.stale ? held : undefined;
  }
}
