// The storage of one side of a book, for order-book.ts: price levels kept sorted worst to best
// (the best at the end, so emptying the best level is a pop), each a FIFO of resting orders, and
// the reads over the top levels (depth, checksum) that need no copy. Pure.
import { crc32 } from 'node:zlib';
import { CHECKSUM_LEVELS } from './checksum.js';
import type { Side } from './types.js';

/** A resting order: a node of its level's FIFO, an intrusive doubly linked list, so a cancel is O(1). */
export class RestingOrder {
  prev: RestingOrder | null = null;
  next: RestingOrder | null = null;

  constructor(
    readonly id: string,
    readonly ownerId: string,
    readonly amount: bigint,
    /** 0 < remaining ≤ amount while the order is in the book. */
    public remaining: bigint,
    readonly sequence: bigint,
    readonly postOnly: boolean,
    readonly level: Level,
  ) {}
}

/** All resting orders at one price on one side, oldest first. Invariant: total = Σ remaining > 0. */
export class Level {
  total = 0n;
  head: RestingOrder | null = null;
  tail: RestingOrder | null = null;
  /** The price's digits in the checksum, made once per level. */
  readonly priceText: string;

  constructor(
    readonly side: Side,
    readonly price: bigint,
  ) {
    this.priceText = price.toString();
  }

  append(order: RestingOrder): void {
    order.prev = this.tail;
    if (this.tail === null) this.head = order;
    else this.tail.next = order;
    this.tail = order;
    this.total += order.remaining;
  }

  unlink(order: RestingOrder): void {
    if (order.prev === null) this.head = order.next;
    else order.prev.next = order.next;
    if (order.next === null) this.tail = order.prev;
    else order.next.prev = order.prev;
    order.prev = order.next = null;
  }
}

/**
 * One side's levels. The array is sorted from the worst price to the best (bids ascending, asks
 * descending), so the best level is the last: matching takes levels off the end with pop(), and
 * new orders, which cluster near the best, are spliced in where little has to move.
 */
export class BookSide {
  readonly levels: Level[] = [];
  private readonly byPrice = new Map<bigint, Level>();

  constructor(readonly side: Side) {}

  best(): Level | undefined {
    return this.levels[this.levels.length - 1];
  }

  /** The level at `price`, made and put in place if there was none. */
  levelAt(price: bigint): Level {
    let level = this.byPrice.get(price);
    if (level === undefined) {
      level = new Level(this.side, price);
      this.levels.splice(this.indexFor(price), 0, level);
      this.byPrice.set(price, level);
    }
    return level;
  }

  /** Whether a change at `price` can reach the best `count` levels (judged before the change). */
  isInTop(price: bigint, count: number): boolean {
    const levels = this.levels;
    if (levels.length < count) return true; // with exactly `count`, a new worst level is outside them
    const edge = levels[levels.length - count].price;
    return this.side === 'buy' ? price >= edge : price <= edge;
  }

  totalAt(price: bigint): bigint {
    return this.byPrice.get(price)?.total ?? 0n;
  }

  remove(level: Level): void {
    const last = this.levels.length - 1;
    const index = this.levels[last] === level ? last : this.indexFor(level.price);
    if (this.levels[index] !== level) throw new Error(`level ${level.price} is not in the ${this.side} side`);
    if (index === last) this.levels.pop();
    else this.levels.splice(index, 1);
    this.byPrice.delete(level.price);
  }

  /** Where `price` goes: the first index whose level is at least as good (binary search). */
  private indexFor(price: bigint): number {
    const levels = this.levels;
    const isBid = this.side === 'buy';
    let low = 0;
    let high = levels.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const other = levels[middle].price;
      if (isBid ? other < price : other > price) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/**
 * bookChecksum(depth(10)) without building the depth: the same text from the levels' own digits
 * (the property test holds the two equal). `levels` run worst to best, so the top is at the end.
 */
export function levelsChecksum(asks: readonly Level[], bids: readonly Level[]): number {
  let text = '';
  for (let i = asks.length - 1; i >= 0 && i >= asks.length - CHECKSUM_LEVELS; i--) {
    text += asks[i].priceText + asks[i].total.toString();
  }
  for (let i = bids.length - 1; i >= 0 && i >= bids.length - CHECKSUM_LEVELS; i--) {
    text += bids[i].priceText + bids[i].total.toString();
  }
  return crc32(text);
}

export function topOf(side: BookSide, count: number): [bigint, bigint][] {
  const levels = side.levels;
  const end = Math.max(levels.length - count, 0);
  const top: [bigint, bigint][] = [];
  for (let i = levels.length - 1; i >= end; i--) top.push([levels[i].price, levels[i].total]);
  return top;
}
