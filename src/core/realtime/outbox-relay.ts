// The worker's care of the outbox: the relay (events committed but never put on the bus, because
// a process died between commit and emit, or lost Redis) and the retention purge.
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { OutboxStore } from './outbox.store.js';
import { RealtimePublisher } from './realtime.publisher.js';
import { RealtimeMetrics } from './realtime.metrics.js';

/** Writes (each a transaction's events) relayed per run. */
const RELAY_BATCH = 100;

@Injectable()
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);

  constructor(
    private readonly store: OutboxStore,
    private readonly publisher: RealtimePublisher,
    private readonly metrics: RealtimeMetrics,
    private readonly config: AppConfig,
  ) {}

  /** Puts on the bus what was committed more than OUTBOX_RELAY_AFTER_MS ago and never emitted; resolves to how many events. */
  async relay(): Promise<number> {
    const { frames, markers } = await this.store.unemitted(this.config.env.OUTBOX_RELAY_AFTER_MS, RELAY_BATCH);
    if (markers.length === 0) return 0;
    await this.publisher.emit(frames, markers);
    this.metrics.relayed.inc(frames.length);
    // (Writes whose events the retention purge removed meanwhile only have their rows dropped.)
    if (frames.length > 0) {
      this.logger.warn({ events: frames.length }, 'relayed events that were committed but not emitted');
    }
    return frames.length;
  }

  /** Deletes the events past OUTBOX_RETENTION_DAYS; resolves to how many. */
  async purge(): Promise<number> {
    const purged = await this.store.purgeOlderThan(this.config.env.OUTBOX_RETENTION_DAYS);
    if (purged > 0) this.logger.log({ purged }, 'outbox events past retention deleted');
    return purged;
  }
}
