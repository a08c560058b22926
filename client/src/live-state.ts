// Lining a snapshot up with the stream (contract section 3, `as_of_seq`): a read such as
// get_accounts returns state as of the user channel's seq N; events up to N are already in it, and
// only those after N must be applied. Events that arrive while the read is in flight are held.
import type { CashierClient } from './cashier-client.js';
import type { AnyFrame } from './contract.js';
import { Emitter } from './emitter.js';

export interface SequencedFrame {
  seq: number;
}

/** The pure part: hold frames until the snapshot, then apply only those after its as_of_seq. */
export class SnapshotAligner<S, F extends SequencedFrame = SequencedFrame> {
  private held: F[] | null = [];
  private current: S | undefined;
  private asOf = 0;

  constructor(private readonly apply: (state: S, frame: F) => S) {}

  /** The state, once a snapshot has been set. */
  get state(): S | undefined {
    return this.held === null ? this.current : undefined;
  }

  /** The seq the state stands at. */
  get seq(): number {
    return this.asOf;
  }

  /** A frame of the channel, in order. Returns true when it changed the state. */
  push(frame: F): boolean {
    if (this.held !== null) {
      this.held.push(frame);
      return false;
    }
    if (frame.seq <= this.asOf) return false;
    this.current = this.apply(this.current as S, frame);
    this.asOf = frame.seq;
    return true;
  }

  /** The snapshot and its `as_of_seq`; frames held after it are applied now. */
  setSnapshot(state: S, asOfSeq: number): void {
    const held = this.held ?? [];
    this.held = null;
    this.current = state;
    this.asOf = asOfSeq;
    for (const frame of held) this.push(frame);
  }

  /** Forget the state and hold frames again (after a reset, before a new read). */
  invalidate(): void {
    this.held = [];
  }
}

export interface LiveStateOptions<S> {
  /** Reads the state and the seq it is as of (e.g. get_accounts → {state, asOfSeq: as_of_seq}). */
  load: () => Promise<{ state: S; asOfSeq: number }>;
  /** Applies one event of the user channel (return the new state; events it ignores: the same). */
  apply: (state: S, frame: AnyFrame) => S;
}

/**
 * State of the user channel kept live: read once, then moved on by its events, read again after a
 * `reset`. `change` fires after the read and after every event that changed it.
 */
export class LiveState<S> extends Emitter<{ change: [state: S]; error: [error: Error] }> {
  private readonly aligner: SnapshotAligner<S, AnyFrame>;
  private readonly offs: (() => void)[] = [];
  private loading: Promise<void> | undefined;

  constructor(
    private readonly client: CashierClient,
    private readonly options: LiveStateOptions<S>,
  ) {
    super();
    this.aligner = new SnapshotAligner(options.apply);
  }

  get state(): S | undefined {
    return this.aligner.state;
  }

  /** Starts following (the client may connect before or after); resolves after the first read. */
  async start(): Promise<void> {
    this.offs.push(
      this.client.on('frame', (frame) => {
        if (frame.channel !== this.client.user.channel) return;
        if (this.aligner.push(frame)) this.emit('change', this.aligner.state as S);
      }),
      this.client.on('reset', ({ channel }) => {
        if (channel === this.client.user.channel) void this.reload();
      }),
    );
    await this.reload();
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
  }

  /** Reads the state again (events meanwhile are held, then applied after its as_of_seq). */
  reload(): Promise<void> {
    this.loading ??= (async () => {
      this.aligner.invalidate();
      try {
        const { state, asOfSeq } = await this.options.load();
        this.aligner.setSnapshot(state, asOfSeq);
        this.emit('change', this.aligner.state as S);
      } catch (error) {
        this.emit('error', error instanceof Error ? error : new Error(String(error)));
        throw error;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }
}
