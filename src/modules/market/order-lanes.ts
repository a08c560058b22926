// One lane per pair: operations on a pair's book run one batch at a time on this instance, in the
// order they arrived, and what queued while a batch ran goes together in the next one (up to
// MAX_BATCH: a batch's fixed cost, a dozen round trips and a commit, is then shared by up to 256
// orders; bench/market measured 0.46x the transfer rate with batches of at most 64, 0.57-0.60x
// with 256). A batch is one transaction under the book row's lock; at low load every operation
// runs alone and at once. Pairs never wait on each other. When a batch fails as a whole (not a
// refusal, which is an outcome of its own), each of its operations runs again alone, so only the
// culprit fails.
import { Logger } from '@nestjs/common';

const MAX_BATCH = 256;

interface Queued<Op, Out> {
  op: Op;
  alone: boolean;
  resolve(value: Out): void;
  reject(error: unknown): void;
}

interface Lane<Op, Out> {
  queue: Queued<Op, Out>[];
  running: boolean;
}

export type BatchRunner<Op, Out> = (key: string, ops: Op[]) => Promise<Out[]>;

export class OrderLanes<Op, Out> {
  private readonly logger = new Logger(OrderLanes.name);
  private readonly lanes = new Map<string, Lane<Op, Out>>();
  private idle?: () => void;

  constructor(private readonly run: BatchRunner<Op, Out>) {}

  submit(key: string, op: Op): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      let lane = this.lanes.get(key);
      if (!lane) {
        lane = { queue: [], running: false };
        this.lanes.set(key, lane);
      }
      lane.queue.push({ op, alone: false, resolve, reject });
      this.pump(key, lane);
    });
  }

  /** Resolves once nothing is queued or running (before the database pool closes). */
  async drained(): Promise<void> {
    if ([...this.lanes.values()].every((lane) => !lane.running && lane.queue.length === 0)) return;
    await new Promise<void>((resolve) => {
      this.idle = resolve;
    });
  }

  private pump(key: string, lane: Lane<Op, Out>): void {
    if (lane.running || lane.queue.length === 0) return;
    const batch = lane.queue[0].alone ? [lane.queue.shift()!] : this.take(lane);
    lane.running = true;
    void this.runBatch(key, lane, batch).finally(() => {
      lane.running = false;
      this.pump(key, lane);
      if ([...this.lanes.values()].every((l) => !l.running && l.queue.length === 0)) this.idle?.();
    });
  }

  /** Operations from the head of the queue, up to the first that must run alone. */
  private take(lane: Lane<Op, Out>): Queued<Op, Out>[] {
    let count = 0;
    while (count < lane.queue.length && count < MAX_BATCH && !lane.queue[count].alone) count += 1;
    return lane.queue.splice(0, count);
  }

  private async runBatch(key: string, lane: Lane<Op, Out>, batch: Queued<Op, Out>[]): Promise<void> {
    let outcomes: Out[];
    try {
      outcomes = await this.run(
        key,
        batch.map((queued) => queued.op),
      );
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
      this.logger.warn(
        { err: error, pair: key, operations: batch.length },
        'order batch failed; each runs again alone',
      );
      lane.queue.unshift(...batch.map((queued) => ({ ...queued, alone: true })));
      return;
    }
    batch.forEach((queued, i) => queued.resolve(outcomes[i]));
  }
}
