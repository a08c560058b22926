// The one way services announce changes. publish() is called inside the transaction that makes the
// change; the events are written to the outbox when that transaction commits (in the same
// transaction, so a committed change is never left unannounced, and a rolled-back one never
// announced), and put on the bus right after the commit. The relay re-sends anything a process
// committed but did not get onto the bus.
import { Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { CommitQueue } from '../database/commit-queue.js';
import { userChannelIn } from './user-channel.js';
import { shareJson } from './frame-json.js';
import { markerOf, OutboxStore, type PendingEvent, type StoredFrame } from './outbox.store.js';
import { RealtimeBus } from './realtime-bus.js';
import { RealtimeMetrics } from './realtime.metrics.js';
import type { RealtimeEvent, RealtimeEventMap, StreamFrame } from './realtime.types.js';
import { Transactions } from '../database/transactions.js';

/** The frame as clients see it, with the JSON text built for the stored one. */
function withoutId(stored: StoredFrame): StreamFrame {
  const { id: _id, ...frame } = stored;
  shareJson(stored, frame);
  return frame;
}

const EMITTED_FLUSH_MS = 250;
/** Past this, a slow or absent Redis is left to the relay instead of holding up the caller. */
const BUS_TIMEOUT_MS = 1000;

@Injectable()
export class RealtimePublisher implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(RealtimePublisher.name);
  /** Unsent markers of emitted frames, deleted every EMITTED_FLUSH_MS. */
  private emitted: string[] = [];
  private flushTimer?: NodeJS.Timeout;
  /** emit() calls of committed transactions still waiting for Redis. */
  private readonly emitting = new Set<Promise<void>>();
  /** Each transaction's events, written to the outbox at its commit (commit-queue.ts). */
  private pending?: CommitQueue<PendingEvent, StoredFrame[]>;

  constructor(
    private readonly transactions: Transactions,
    @InjectDataSource() private readonly db: DataSource,
    private readonly store: OutboxStore,
    private readonly bus: RealtimeBus,
    private readonly metrics: RealtimeMetrics,
  ) {}

  onModuleInit(): void {
    this.pending = new CommitQueue(this.db, {
      // Sent with the COMMIT behind it: the events commit with the change or not at all.
      send: (tx, events) => this.store.write(tx, events),
      unread: (error) =>
        this.logger.warn({ err: error }, 'events committed but their outbox answer unread; the relay will send them'),
      committed: (written) => this.afterCommit(written),
    });
    this.flushTimer = setInterval(() => void this.flushEmitted(), EMITTED_FLUSH_MS);
    this.flushTimer.unref();
  }

  /** Before the database pools close (they do on module destroy). */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.flushTimer);
    await Promise.all(this.emitting);
    await this.flushEmitted();
  }

  /** Announces `event` on a durable channel when the transaction of `manager` commits. */
  publish<E extends RealtimeEvent>(
    manager: EntityManager,
    channel: string,
    event: E,
    payload: RealtimeEventMap[E],
  ): void {
    this.enqueue(manager, { channel, event, payload });
  }

  /** publish() for events whose name is only known at run time (the admin test notification). */
  publishUnchecked(manager: EntityManager, channel: string, event: string, payload: unknown): void {
    this.enqueue(manager, { channel, event, payload });
  }

  /** Announces `event` on the private channel of a user. */
  async publishToUser<E extends RealtimeEvent>(
    manager: EntityManager,
    userId: string,
    event: E,
    payload: RealtimeEventMap[E],
  ): Promise<void> {
    this.publish(manager, await this.userChannel(manager, userId), event, payload);
  }

  /** The private channel of a user, read in `manager`'s transaction (user-channel.ts). */
  userChannel(manager: EntityManager, userId: string): Promise<string> {
    return userChannelIn(manager, userId);
  }

  /** publish() in a transaction of its own, for announcements that change nothing else. */
  async publishNow(channel: string, event: string, payload: unknown): Promise<void> {
    await this.transactions.run((tx) => {
      this.publishUnchecked(tx, channel, event, payload);
      return Promise.resolve();
    });
  }

  /**
   * An announcement on a public market channel outside any other change (public frames go through
   * the outbox like all others: each has its channel's seq, so a client sees a gap).
   */
  publishPublic(channel: string, event: string, payload: unknown): Promise<void> {
    return this.publishNow(channel, event, payload);
  }

  /** After the commit of a transaction that wrote `written` to the outbox. */
  private afterCommit(written: StoredFrame[]): void {
    if (written.length === 0) return;
    // Not awaited: this instance's sockets have the events when emit() returns (the bus hands its
    // own subscriber each message in the publishing call), and the caller's reply need not wait
    // for Redis. A failure there is logged and left to the relay.
    const emitting = this.emit(written);
    this.emitting.add(emitting);
    void emitting.finally(() => this.emitting.delete(emitting));
  }

  /**
   * Puts committed frames on the bus and, in a moment, deletes their unsent `markers` (by default
   * the one of frames written together); a failure is left to the relay, never to the caller.
   */
  async emit(frames: StoredFrame[], markers: string[] = frames.length > 0 ? [markerOf(frames)] : []): Promise<void> {
    if (frames.length === 0) {
      this.emitted.push(...markers);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`realtime bus did not answer within ${BUS_TIMEOUT_MS} ms`)),
        BUS_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([this.bus.publish({ frames: frames.map(withoutId) }), timeout]);
      this.emitted.push(...markers);
      this.metrics.published.inc(frames.length);
    } catch (error) {
      this.logger.warn(
        { err: error, events: frames.length },
        'events committed but not emitted; the relay will send them',
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private enqueue(manager: EntityManager, event: PendingEvent): void {
    if (!this.pending?.add(manager, event)) {
      throw new Error('RealtimePublisher.publish() must be called inside a transaction (or use publishNow)');
    }
  }

  private async flushEmitted(): Promise<void> {
    if (this.emitted.length === 0) return;
    const ids = this.emitted;
    this.emitted = [];
    try {
      await this.store.markEmitted(ids);
    } catch (error) {
      // Not fatal: the relay will emit these again and clients drop repeats by seq.
      this.logger.warn({ err: error, writes: ids.length }, 'could not mark events emitted');
    }
  }
}
