// Exactly once and in order, per channel: frames are handed on only when their seq is the next one.
// A frame at or below the position is a repeat (a replay overlapping what was seen) and is dropped;
// one beyond the next is held until the frames between arrive (the client asks the server for them
// with `since`). Pure: the client feeds it frames and positions.

export interface Sequenced {
  seq: number;
}

export class ChannelSequence<F extends Sequenced> {
  /** The seq of the last frame handed on; undefined until the channel's position is known. */
  private last: number | undefined;
  private readonly held = new Map<number, F>();

  constructor(
    readonly channel: string,
    private readonly deliver: (frame: F) => void,
    position?: number,
  ) {
    this.last = position;
  }

  /** The seq of the last frame handed on (what to resume from), if known. */
  get position(): number | undefined {
    return this.last;
  }

  /** True while frames are held beyond a gap. */
  get hasGap(): boolean {
    return this.last !== undefined && this.held.size > 0;
  }

  /**
   * Puts the position at `seq` (a reset: the app re-reads state as of it): held frames at or below
   * it are dropped, those right after it handed on.
   */
  moveTo(seq: number): void {
    this.last = seq;
    this.drain();
  }

  /**
   * For a channel joined without a position: the join's ack says where the channel stands. Frames
   * that arrived before the ack are newer than the join, so the position starts just before the
   * earliest of them (nothing is dropped); with none, at the ack's seq.
   */
  settle(ackSeq: number): void {
    if (this.last !== undefined) return;
    const earliest = Math.min(...this.held.keys());
    this.last = this.held.size > 0 && earliest - 1 < ackSeq ? earliest - 1 : ackSeq;
    this.drain();
  }

  /** Takes a frame; returns what became of it. */
  accept(frame: F): 'delivered' | 'repeat' | 'held' {
    if (this.last !== undefined && frame.seq <= this.last) return 'repeat';
    if (this.last === undefined || frame.seq > this.last + 1) {
      this.held.set(frame.seq, frame);
      return 'held';
    }
    this.last = frame.seq;
    this.deliver(frame);
    this.drain();
    return 'delivered';
  }

  private drain(): void {
    if (this.last === undefined) return;
    for (const seq of [...this.held.keys()]) if (seq <= this.last) this.held.delete(seq);
    for (let next = this.held.get(this.last + 1); next; next = this.held.get(this.last + 1)) {
      this.held.delete(next.seq);
      this.last = next.seq;
      this.deliver(next);
    }
  }
}
