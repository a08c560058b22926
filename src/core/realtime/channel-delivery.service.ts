// Delivery of durable-channel events to the sockets of this instance, exactly once and in order
// per socket. Each socket keeps a cursor per channel (the last seq it was sent). A frame is sent
// to a socket only if its seq is the next one; a frame ahead of the cursor first pulls the missing
// ones from the outbox; one at or behind it is dropped. Work on one channel is serialized on this
// instance, so a join with `since` (replay) and live frames never interleave.
import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Namespace, Socket } from 'socket.io';
import { deleteCursor, getCursor, setCursor } from './cursors.js';
import { isPlainConnection } from './plain/plain-connection.js';
import { OutboxStore, type StoredFrame } from './outbox.store.js';
import { RealtimeBus, type BusMessage } from './realtime-bus.js';
import { RealtimeMetrics } from './realtime.metrics.js';
import { RealtimeDirectory } from './realtime-directory.js';
import { isPublicChannel, type StreamFrame } from './realtime.types.js';
import { SendBudget } from './send-budget.js';
import { WriteCoalescer } from './write-coalescer.js';

export interface JoinResult {
  /** The channel's latest seq when the socket joined. */
  seq: number;
  /** True when `since` was older than what is retained (or ahead of the channel): re-read state. */
  reset: boolean;
}

const REPLAY_BATCH = 500;
const BACKLOG_CHECK_MS = 500;

const frameOf = ({ id: _id, ...frame }: StoredFrame): StreamFrame => frame;

@Injectable()
export class ChannelDelivery implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ChannelDelivery.name);
  private userNsp?: Namespace;
  private publicNsp?: Namespace;
  private readonly queues = new Map<string, Promise<void>>();
  private readonly coalescer = new WriteCoalescer((error) =>
    this.logger.error({ err: error }, 'writing held frames to a socket failed'),
  );
  /** Set on shutdown, when failures of work cut short by the closing pools are expected. */
  private closing = false;
  private backlogCheck?: NodeJS.Timeout;

  constructor(
    private readonly store: OutboxStore,
    private readonly bus: RealtimeBus,
    private readonly metrics: RealtimeMetrics,
    private readonly budget: SendBudget,
    private readonly directory: RealtimeDirectory,
  ) {}

  attach(namespaces: { user?: Namespace; public?: Namespace }): void {
    this.userNsp = namespaces.user ?? this.userNsp;
    this.publicNsp = namespaces.public ?? this.publicNsp;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.subscribe(
      (message) => this.onBusMessage(message),
      () => this.resyncAll(),
    );
    this.backlogCheck = setInterval(() => this.checkBacklogs(), BACKLOG_CHECK_MS);
    this.backlogCheck.unref();
  }

  beforeApplicationShutdown(): void {
    this.closing = true;
    clearInterval(this.backlogCheck);
  }

  /**
   * Every socket's unsent backlog against its bound, periodically: what delivery does not see as
   * it sends (public room broadcasts, replies) is bounded too.
   */
  checkBacklogs(): void {
    for (const nsp of [this.userNsp, this.publicNsp]) {
      for (const socket of nsp?.sockets.values() ?? []) this.budget.exceeded(socket);
    }
  }

  /**
   * Joins `socket` to a durable channel. Without `since` it receives what is published from now
   * on; with `since` it is first sent every stored event after that seq. `beforeReplay` runs after
   * the join is decided and before anything is replayed (the `connected` event goes there).
   */
  join(
    socket: Socket,
    channel: string,
    since?: number,
    beforeReplay?: (result: JoinResult) => void,
  ): Promise<JoinResult> {
    // The channel's queue exists from here until the join is done, so every frame of the channel
    // that arrives meanwhile waits behind it (onBusMessage) and is then sent or dropped by seq.
    return this.serialize(channel, async () => {
      const { latest, oldest } = await this.store.bounds(channel);
      const current = getCursor(socket, channel);
      const joined = current !== undefined;
      let cursor = joined && since === undefined ? current : latest;
      let reset = false;
      if (since !== undefined) {
        const retained = since >= latest || (oldest !== null && since + 1 >= oldest);
        if (since > latest || !retained) reset = true;
        else cursor = since;
      }
      setCursor(socket, channel, cursor);
      if (!joined) await socket.join(channel);
      beforeReplay?.({ seq: latest, reset });
      if (cursor < latest) await this.catchUp(socket, channel, latest);
      return { seq: latest, reset };
    });
  }

  leave(socket: Socket, channel: string): Promise<void> {
    return this.serialize(channel, async () => {
      deleteCursor(socket, channel);
      await socket.leave(channel);
    });
  }

  /**
   * Joins `socket` to a public market channel: a plain room broadcast, without a per-socket
   * cursor. The channel's snapshot frames (a depth channel's book) go first, stamped with the
   * channel's seq they stand at; frames of the channel arriving meanwhile wait behind the join,
   * so the socket gets every frame after the snapshot (and perhaps some at or below its seq,
   * which clients recognize and skip).
   */
  joinPublic(socket: Socket, channel: string): Promise<{ seq: number }> {
    return this.serialize(channel, async () => {
      const [snapshots, bounds] = await Promise.all([this.directory.snapshotsOf(channel), this.store.bounds(channel)]);
      await socket.join(channel);
      const timestamp = new Date().toISOString();
      for (const { event, seq, payload } of snapshots) {
        socket.emit('stream', { event, channel, seq, timestamp, payload } satisfies StreamFrame);
      }
      return { seq: Math.max(bounds.latest, ...snapshots.map((s) => s.seq)) };
    });
  }

  private onBusMessage(message: BusMessage): void {
    // One task per channel for its frames of the message (a posting batch: three per user). A
    // channel with work queued is kept even before it has a room: a socket may be joining it, and
    // the frame must wait behind the join rather than be dropped (the join may have read the
    // channel's latest seq before this frame was committed).
    const byChannel = new Map<string, StreamFrame[]>();
    for (const frame of message.frames) {
      const nsp = isPublicChannel(frame.channel) ? this.publicNsp : this.userNsp;
      if (!this.queues.has(frame.channel) && !nsp?.adapter.rooms.has(frame.channel)) continue;
      const frames = byChannel.get(frame.channel);
      if (frames) frames.push(frame);
      else byChannel.set(frame.channel, [frame]);
    }
    for (const [channel, frames] of byChannel) {
      if (isPublicChannel(channel)) {
        if (this.queues.has(channel)) void this.serialize(channel, () => Promise.resolve(this.broadcast(frames)));
        else this.broadcast(frames);
      } else if (this.queues.has(channel)) {
        void this.serialize(channel, () => this.deliverAll(frames));
      } else {
        this.deliverNow(channel, frames);
      }
    }
  }

  /** Public frames: one encoded frame for every socket in the room. */
  private broadcast(frames: readonly StreamFrame[]): void {
    const nsp = this.publicNsp;
    if (!nsp) return;
    for (const frame of frames) {
      const room = nsp.adapter.rooms.get(frame.channel);
      if (!room) continue;
      nsp.local.to(frame.channel).emit('stream', frame);
      this.metrics.emitted.inc({ namespace: 'public' }, room.size);
    }
  }

  /**
   * With nothing queued on the channel the frames go out at once, without a task (most bus
   * messages: sockets in step); only what must wait for a catch-up is queued behind it.
   */
  private deliverNow(channel: string, frames: StreamFrame[]): void {
    try {
      for (const [i, frame] of frames.entries()) {
        const catchingUp = this.deliver(frame);
        if (catchingUp) {
          const rest = frames.slice(i + 1);
          void this.serialize(channel, async () => {
            await catchingUp;
            await this.deliverAll(rest);
          });
          return;
        }
      }
    } catch (error) {
      this.logger.error({ err: error, channel }, 'channel delivery failed');
    }
  }

  private async deliverAll(frames: StreamFrame[]): Promise<void> {
    for (const frame of frames) {
      const catchingUp = this.deliver(frame);
      if (catchingUp) await catchingUp;
    }
  }

  /** Sends `frame` to the sockets in step; returns the work of catching up those behind, if any. */
  private deliver(frame: StreamFrame): Promise<void> | undefined {
    const nsp = this.userNsp!;
    const room = nsp.adapter.rooms.get(frame.channel);
    if (!room) return undefined;
    const inSync: Socket[] = [];
    const behind: Socket[] = [];
    for (const id of room) {
      const socket = nsp.sockets.get(id);
      const cursor = socket && getCursor(socket, frame.channel);
      // A socket past its unsent bound is closed here and gets nothing more; it resumes with since.
      if (!socket || cursor === undefined || cursor >= frame.seq || this.budget.exceeded(socket)) continue;
      if (cursor === frame.seq - 1) inSync.push(socket);
      else behind.push(socket);
    }
    if (inSync.length > 0) {
      for (const socket of inSync) this.coalescer.hold(socket);
      this.fanOut(nsp, frame, inSync);
      for (const socket of inSync) setCursor(socket, frame.channel, frame.seq);
      this.metrics.emitted.inc({ namespace: 'user' }, inSync.length);
    }
    return behind.length > 0 ? this.catchUpAll(behind, frame) : undefined;
  }

  /**
   * The sockets in step: plain WebSocket connections are sent the frame each (their endpoint
   * encodes it once for all of them); socket.io sockets one encoded broadcast, to the rooms of their
   * own ids, or the frame straight when there is one (the common case: a user's one socket).
   */
  private fanOut(nsp: Namespace, frame: StreamFrame, inSync: Socket[]): void {
    const engineSockets: Socket[] = [];
    for (const socket of inSync) {
      if (isPlainConnection(socket)) socket.emit('stream', frame);
      else engineSockets.push(socket);
    }
    if (engineSockets.length === 1) engineSockets[0].emit('stream', frame);
    else if (engineSockets.length > 1) nsp.local.to(engineSockets.map((socket) => socket.id)).emit('stream', frame);
  }

  private async catchUpAll(behind: Socket[], frame: StreamFrame): Promise<void> {
    for (const socket of behind) {
      await this.catchUp(socket, frame.channel, frame.seq - 1);
      if (getCursor(socket, frame.channel) === frame.seq - 1) this.send(socket, frame);
    }
  }

  /** Sends a socket every stored event of `channel` after its cursor, up to `upTo`. */
  private async catchUp(socket: Socket, channel: string, upTo: number): Promise<void> {
    let stalled = false;
    for (;;) {
      const cursor = getCursor(socket, channel);
      if (cursor === undefined || cursor >= upTo || socket.disconnected) return;
      const frames = await this.store.range(channel, cursor, upTo, REPLAY_BATCH);
      if (frames.length === 0) {
        // Purged by retention meanwhile: skip the hole rather than stall the channel.
        setCursor(socket, channel, upTo);
        return;
      }
      for (const frame of frames) {
        // A replay waits for the client rather than queue more than its bound allows; to a client
        // that takes nothing meanwhile it goes on, until the bound closes the connection.
        if (!stalled && this.budget.isFilling(socket)) stalled = !(await this.budget.drained(socket));
        if (socket.disconnected || this.budget.exceeded(socket)) return;
        this.send(socket, frameOf(frame));
      }
      this.metrics.replayed.inc(frames.length);
    }
  }

  private send(socket: Socket, frame: StreamFrame): void {
    this.coalescer.hold(socket);
    socket.emit('stream', frame);
    setCursor(socket, frame.channel, frame.seq);
    this.metrics.emitted.inc({ namespace: 'user' });
  }

  /** After the bus subscription was lost: bring every local follower up to date from the outbox. */
  private resyncAll(): void {
    const nsp = this.userNsp;
    if (!nsp) return;
    this.logger.warn('realtime bus reconnected: catching up local channels from the outbox');
    for (const [channel, members] of nsp.adapter.rooms) {
      if (channel.startsWith('@') || nsp.sockets.has(channel)) continue;
      void this.serialize(channel, async () => {
        const { latest } = await this.store.bounds(channel);
        for (const id of members) {
          const socket = nsp.sockets.get(id);
          if (socket) await this.catchUp(socket, channel, latest);
        }
      });
    }
  }

  /** Runs `task` after every earlier task of the same channel on this instance. */
  private serialize<T>(channel: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(channel) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      (error: unknown) => {
        if (this.closing) this.logger.debug({ err: error, channel }, 'channel delivery cut short by shutdown');
        else this.logger.error({ err: error, channel }, 'channel delivery failed');
      },
    );
    this.queues.set(channel, tail);
    void tail.then(() => {
      if (this.queues.get(channel) === tail) this.queues.delete(channel);
    });
    return result;
  }
}
