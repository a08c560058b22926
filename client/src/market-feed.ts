// Market data over socket.io `/public` (contract section 5): per pair, a local order book kept from
// the `market-depth-snapshot` and every later `update-market-depth`, its checksum verified after
// each update; on a mismatch or a gap in seq it joins that one channel again for a fresh snapshot
// (no reconnect). Trades and ticks are handed on once each, in order.
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { SOCKET_PATH } from './cashier-client.js';
import type { ChannelAck, DepthSnapshotPayload, DepthUpdatePayload, NewTradePayload, TickPayload } from './contract.js';
import { Emitter } from './emitter.js';
import { CashierError } from './errors.js';
import { OrderBook } from './order-book.js';

export interface PairInfo {
  symbol: string;
  /** Decimals of prices (the quote currency's): 2 for BTC-EUR. */
  quoteDecimals: number;
  /** Decimals of amounts (the base currency's): 8 for BTC. */
  baseDecimals: number;
}

export interface MarketFeedOptions {
  /** The service's base URL, e.g. `http://localhost:3000`. */
  url: string;
  /** The pairs' decimals; read from `GET /api/v1/market/pairs` when not given. */
  pairs?: PairInfo[];
  reconnectionDelay?: number;
  reconnectionDelayMax?: number;
  transports?: ('websocket' | 'polling')[];
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

export type ResyncReason = 'checksum' | 'gap';

export interface BookState {
  book: OrderBook;
  /** False from a connection or a resync until the next snapshot. */
  live: boolean;
  /** Updates applied whose checksum matched the server's. */
  verified: number;
  resyncs: number;
}

export interface MarketEvents {
  /** A book changed (a snapshot, or an update whose checksum matched). */
  book: [book: OrderBook];
  trade: [trade: NewTradePayload];
  tick: [tick: TickPayload];
  /** A book was found out of step and is being fetched again. */
  resync: [info: { pair: string; reason: ResyncReason; seq: number }];
  connected: [];
  disconnected: [reason: string];
  error: [error: Error];
}

interface Frame<P = unknown> {
  event: string;
  channel: string;
  seq: number;
  timestamp: string;
  payload: P;
}

/** Decimals of a step such as "0.01" (2) or "1" (0). */
const decimalsOf = (step: string) => (step.includes('.') ? step.split('.')[1].length : 0);

/** Joined by the server at connect; the feed uses the per-pair channels instead. */
const BARE_CHANNELS = ['trade', 'ticker', 'market-depth'];

export class MarketFeed extends Emitter<MarketEvents> {
  readonly socket: Socket;
  private pairs = new Map<string, PairInfo>();
  private readonly books = new Map<string, BookState>();
  private readonly watched = new Set<string>();
  /** Last seq handed on per trade and ticker channel (a repeat after a re-join is skipped). */
  private readonly lastSeq = new Map<string, number>();

  constructor(private readonly options: MarketFeedOptions) {
    super();
    for (const pair of options.pairs ?? []) this.pairs.set(pair.symbol, pair);
    this.socket = io(`${options.url.replace(/\/$/, '')}/public`, {
      path: SOCKET_PATH,
      transports: options.transports ?? ['websocket'],
      autoConnect: false,
      reconnectionDelay: options.reconnectionDelay ?? 500,
      reconnectionDelayMax: options.reconnectionDelayMax ?? 5000,
      ...options.socketOptions,
    });
    this.socket.on('connect', () => this.onConnect());
    this.socket.on('disconnect', (reason) => this.onDisconnect(reason));
    this.socket.on('stream', (frame: Frame) => this.onFrame(frame));
  }

  /** Follows a pair's book, trades and ticker (before or after connecting). */
  watch(pair: string): void {
    if (this.watched.has(pair)) return;
    this.watched.add(pair);
    if (this.socket.connected) this.joinPair(pair);
  }

  /** The local book of a watched pair (undefined before its first snapshot). */
  book(pair: string): OrderBook | undefined {
    return this.books.get(pair)?.book;
  }

  state(pair: string): BookState | undefined {
    return this.books.get(pair);
  }

  async connect(): Promise<void> {
    if (this.pairs.size === 0) await this.loadPairs();
    await new Promise<void>((resolve, reject) => {
      const onConnect = () => {
        this.socket.off('connect_error', onError);
        resolve();
      };
      const onError = (error: Error) => {
        this.socket.off('connect', onConnect);
        reject(error);
      };
      this.socket.once('connect', onConnect);
      this.socket.once('connect_error', onError);
      this.socket.connect();
    });
  }

  close(): void {
    this.socket.disconnect();
  }

  /** Fetches a fresh snapshot of one pair's book (what a checksum mismatch does by itself). */
  resync(pair: string, reason: ResyncReason): void {
    const state = this.books.get(pair);
    if (!state) return;
    state.live = false;
    state.resyncs += 1;
    this.emit('resync', { pair, reason, seq: state.book.seq });
    this.join(`market-depth:${pair}`);
  }

  private async loadPairs(): Promise<void> {
    const response = await fetch(`${this.options.url.replace(/\/$/, '')}/api/v1/market/pairs`);
    if (!response.ok) throw new CashierError('INTERNAL', `GET /api/v1/market/pairs answered ${response.status}`);
    const { pairs } = (await response.json()) as {
      pairs: { symbol: string; price_tick: string; amount_step: string }[];
    };
    for (const pair of pairs) {
      this.pairs.set(pair.symbol, {
        symbol: pair.symbol,
        quoteDecimals: decimalsOf(pair.price_tick),
        baseDecimals: decimalsOf(pair.amount_step),
      });
    }
  }

  private onConnect(): void {
    for (const channel of BARE_CHANNELS) this.socket.emit('leave', channel);
    for (const state of this.books.values()) state.live = false;
    for (const pair of this.watched) this.joinPair(pair);
    this.emit('connected');
  }

  private onDisconnect(reason: string): void {
    for (const state of this.books.values()) state.live = false;
    this.emit('disconnected', reason);
  }

  private joinPair(pair: string): void {
    const info = this.pairs.get(pair);
    if (!info) {
      this.emit('error', new CashierError('UNKNOWN_PAIR', `unknown pair ${pair}`));
      return;
    }
    if (!this.books.has(pair)) {
      this.books.set(pair, {
        book: new OrderBook(pair, info.quoteDecimals, info.baseDecimals),
        live: false,
        verified: 0,
        resyncs: 0,
      });
    }
    for (const base of ['market-depth', 'trade', 'ticker']) this.join(`${base}:${pair}`);
  }

  private join(channel: string): void {
    this.socket.emit('channel', channel, (ack: ChannelAck) => {
      if (!ack.ok) this.emit('error', new CashierError(ack.error.code, `${channel}: ${ack.error.message}`));
    });
  }

  private onFrame(frame: Frame): void {
    const colon = frame.channel.indexOf(':');
    if (colon === -1) return; // a bare channel, left at connect
    const base = frame.channel.slice(0, colon);
    const pair = frame.channel.slice(colon + 1);
    if (!this.watched.has(pair)) return;
    if (base === 'market-depth') return this.onDepth(pair, frame);
    const last = this.lastSeq.get(frame.channel);
    if (last !== undefined && frame.seq <= last) return;
    this.lastSeq.set(frame.channel, frame.seq);
    if (frame.event === 'new-trade') this.emit('trade', frame.payload as NewTradePayload);
    else if (frame.event === 'tick') this.emit('tick', frame.payload as TickPayload);
  }

  private onDepth(pair: string, frame: Frame): void {
    const state = this.books.get(pair);
    if (!state) return;
    const { book } = state;
    if (frame.event === 'market-depth-snapshot') {
      const snapshot = frame.payload as DepthSnapshotPayload;
      book.load(snapshot, frame.seq);
      state.live = true;
      if (book.checksum() !== snapshot.checksum) {
        // Not a missed update: this client and the server write the book differently.
        this.emit('error', new CashierError('INTERNAL', `${pair}: the snapshot's checksum does not match its levels`));
      }
      this.emit('book', book);
      return;
    }
    if (frame.event !== 'update-market-depth' || !state.live || frame.seq <= book.seq) return;
    if (frame.seq !== book.seq + 1) return this.resync(pair, 'gap');
    const update = frame.payload as DepthUpdatePayload;
    book.set(update.category, update.price, update.amount);
    book.seq = frame.seq;
    if (book.checksum() !== update.checksum) return this.resync(pair, 'checksum');
    state.verified += 1;
    this.emit('book', book);
  }
}
