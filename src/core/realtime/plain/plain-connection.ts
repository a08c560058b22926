// One plain WebSocket client (contract section 7) as a connection of socket.io's `/user` namespace,
// without engine.io and without a socket.io Socket. Once its credentials are admitted it is put in
// the namespace as a socket (plain-websockets.ts): in `nsp.sockets`, in the adapter's rooms, and
// announced with the namespace's `connection` event. It offers what the realtime core and
// socket.io's adapters use of a socket (`id`, `data`, `join`, `leave`, `rooms`, `emit`, `disconnect`,
// `onAny`, `once('disconnect')`, `handshake`, `client.writeToEngine`), so the same gateways, request
// gate, channel delivery, limits and session control serve it, and what spans instances
// (fetchSockets, room broadcasts and disconnects over the Redis adapter) reaches it. Only the
// framing differs: its endpoint's protocol (endpoints/*.ts) turns the client's frames into requests
// and events into frames.
//
// An idle connection holds its `ws` socket, this object and its entries in the namespace: none of
// engine.io's socket, transport and timers, nor socket.io's Client and Socket (bench/plain/run.mjs
// measures it against a bare `ws` server). plain-connection.spec.ts pins what this relies on of
// socket.io: a real server's namespace, adapter broadcasts, fetchSockets and disconnectSockets.
import { randomBytes } from 'node:crypto';
import type { Namespace, Socket } from 'socket.io';
import type { DomainError } from '../../errors/domain-error.js';
import { RETRY_AFTER_S } from '../../errors/dependency-errors.js';
import { refuseJsonText } from '../../errors/json-input.js';
import { CURSORS } from '../cursors.js';
import { PLAIN_ENDPOINT, type PlainMark } from '../realtime-handshake.js';
import { EXPIRY } from '../socket-expiry.js';
import type { MessageVerdict } from '../realtime-limits.service.js';
import type { AuthenticatedPrincipal, SocketData, StreamFrame } from '../realtime.types.js';
import { IDLE_MS, secondsNow, track, untrack } from './plain-heartbeat.js';
import type { ConnectOutcome, PlainOpening, PlainServices } from './plain-services.js';
import { onClose, onError, onMessage, onPong, type PlainWebSocket } from './plain-web-socket.js';
import { CLOSE, type EndpointProtocol, type PlainContext, type RateVerdict } from './plain-protocol.js';
import { isRateRefusal, PlainRate } from './plain-rate.js';
import { appendShared, encodedStream, settledMark } from './plain-sharing.js';

/** What of socket.io's Namespace a connection's arrival uses beyond its public API (`emitReserved`, internal). */
type ConnectingNamespace = Namespace & { emitReserved(event: 'connect' | 'connection', socket: Socket): void };

/** A listener of every request (socket.io's `onAny`): the request gate and the adapter's router. */
type AnyListener = (this: PlainConnection, event: string, ...args: unknown[]) => void;
type DisconnectListener = (this: PlainConnection, reason: string) => void;

const NO_QUERY = new URLSearchParams();

/** socket.io packet type of an event (socket.io-parser). */
const EVENT_PACKET = '2';

/** The last broadcast packet decoded (adapter broadcasts hand every member the same array). */
let lastPacket: { packets: readonly unknown[]; event: string; payload: unknown } | undefined;

export class PlainConnection implements PlainContext {
  readonly id = randomBytes(15).toString('base64url');
  /** socket.io's `socket.data`, set when the connection is admitted. */
  data = {} as SocketData;
  /** What its endpoint asks of it (read as `plainMarkOf(socket)`). */
  [PLAIN_ENDPOINT]: PlainMark;
  /**
   * What the realtime core keeps on a socket (cursors.ts, socket-expiry.ts), declared so that it
   * lives in the object: added later, it would cost every connection a property array.
   */
  [CURSORS]?: (string | number)[] = undefined;
  [EXPIRY]?: number = undefined;
  /** When the client was last heard from, in whole seconds of the process clock (a small integer). */
  heardAt = secondsNow();
  private connectedNow = false;
  private ended = false;
  private closeCode: number = CLOSE.normal;
  private closeReason = '';
  private opening?: PlainOpening;
  private stateMap?: Map<string, unknown>;
  private anyListeners?: readonly AnyListener[];
  private disconnectListeners?: readonly DisconnectListener[];
  /** Requests awaiting their answer; made by the first request (an idle connection has none). */
  private pending?: Set<(answer: unknown) => void>;
  private rate?: PlainRate;

  constructor(
    private readonly ws: PlainWebSocket,
    readonly protocol: EndpointProtocol,
    readonly services: PlainServices,
    mark: PlainMark,
    opening: PlainOpening,
  ) {
    this[PLAIN_ENDPOINT] = mark;
    this.opening = opening;
    ws.connection = this;
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('close', onClose);
    ws.on('error', onError);
    track(this);
  }

  /** The heartbeat: a ping, or the end of a client silent for longer than IDLE_MS. */
  beat(now: number): void {
    if ((now - this.heardAt) * 1000 > IDLE_MS) this.ws.terminate();
    else this.ws.ping();
  }

  // --- what socket.io and the realtime core use of a socket ---

  get nsp(): Namespace {
    return this.services.nsp;
  }

  get connected(): boolean {
    return this.connectedNow;
  }

  get disconnected(): boolean {
    return !this.connectedNow;
  }

  /** socket.io's `socket.client`: adapter broadcasts write to `client.writeToEngine`. */
  get client(): this {
    return this;
  }

  /** What socket.io's handshake says of a socket, for the diagnostics and fetchSockets; no credentials. */
  get handshake(): { address: string; query: Record<string, string>; headers: object; auth: object; url: string } {
    const since = this.opening?.since;
    return {
      address: (this.ws as unknown as { _socket?: { remoteAddress?: string } })._socket?.remoteAddress ?? '',
      query: { transport: 'websocket' },
      headers: {},
      auth: since === undefined ? {} : { since },
      url: this.protocol.path,
    };
  }

  get rooms(): Set<string> {
    return this.nsp.adapter.socketRooms(this.id) ?? new Set();
  }

  join(rooms: string | string[]): Promise<void> | void {
    if (!this.connectedNow) return;
    return this.nsp.adapter.addAll(this.id, new Set(Array.isArray(rooms) ? rooms : [rooms]));
  }

  leave(room: string): Promise<void> | void {
    return this.nsp.adapter.del(this.id, room);
  }

  onAny(listener: AnyListener): this {
    this.anyListeners = appendShared(this.anyListeners, listener);
    return this;
  }

  listenersAny(): readonly AnyListener[] {
    return this.anyListeners ?? [];
  }

  /** Only `disconnect` is listened to on a /user socket (the gateways' handleDisconnect). */
  once(event: string, listener: DisconnectListener): this {
    if (event !== 'disconnect') throw new Error(`a plain connection has no "${event}" event`);
    this.disconnectListeners = appendShared(this.disconnectListeners, listener);
    return this;
  }

  on(event: string, listener: DisconnectListener): this {
    return this.once(event, listener);
  }

  listeners(event: string): readonly DisconnectListener[] {
    return event === 'disconnect' ? (this.disconnectListeners ?? []) : [];
  }

  /** An event for this client (a channel event, `connected`, `force_logout`, a reply): its frame. */
  emit(event: string, payload?: unknown): boolean {
    if (!this.connectedNow) return false;
    const { streamFrame } = this.protocol;
    if (event === 'stream' && streamFrame) {
      this.sendText(encodedStream(this.protocol, streamFrame, payload as StreamFrame));
      return true;
    }
    if (event === 'connected') {
      // Set up: what the opening said is used, and the endpoint's shared mark will do from now on.
      this.opening = undefined;
      this[PLAIN_ENDPOINT] = settledMark(this[PLAIN_ENDPOINT]);
    }
    this.protocol.onEvent(this, event, payload);
    return true;
  }

  /** A broadcast of socket.io's adapter (a room emit, here or from another instance). */
  writeToEngine(packets: readonly unknown[]): void {
    let decoded = lastPacket;
    if (decoded?.packets !== packets) {
      const text = packets[0];
      if (typeof text !== 'string' || text.charAt(0) !== EVENT_PACKET) return;
      const [event, payload] = JSON.parse(text.slice(text.indexOf('['))) as [string, unknown];
      decoded = { packets, event, payload };
      lastPacket = decoded;
    }
    this.emit(decoded.event, decoded.payload);
  }

  /** Closes the connection with the code its endpoint chose, and takes it out of the namespace. */
  disconnect(): this {
    this.close();
    this.left('server namespace disconnect');
    return this;
  }

  // --- what endpoint protocols use (PlainContext) ---

  /** The URL's query string, while the connection opens (the endpoint reads it in onOpen). */
  get query(): URLSearchParams {
    return this.opening?.query ?? NO_QUERY;
  }

  get state(): Map<string, unknown> {
    return (this.stateMap ??= new Map());
  }

  get principal(): AuthenticatedPrincipal | undefined {
    const principal = this.connectedNow ? this.data.principal : undefined;
    return principal && principal.kind !== 'anonymous' ? principal : undefined;
  }

  /** Admits the connection with `auth`, or with the credentials checked at its upgrade. */
  async connect(auth?: Record<string, unknown>): Promise<ConnectOutcome> {
    if (this.ended) return { ok: false, data: { code: 'UNAUTHORIZED', message: 'the connection is closed' } };
    if (this.connectedNow) return { ok: false, data: { code: 'INVALID_REQUEST', message: 'already connected' } };
    return this.services.connect(this, auth);
  }

  /** What the connection was told at its upgrade (PlainWebSockets reads it as it admits it). */
  get openedWith(): PlainOpening | undefined {
    return this.opening;
  }

  /**
   * Puts the admitted connection in its namespace as a socket, as socket.io's `_doConnect` does: in
   * `sockets`, and announced with `connection`, on which the gateways set it up (joins, replay,
   * `connected`). Unlike a socket.io socket it is not in a room of its own id.
   */
  enter(data: SocketData): void {
    this.data = data;
    this.connectedNow = true;
    const nsp = this.nsp as ConnectingNamespace;
    const socket = this as unknown as Socket;
    nsp.sockets.set(this.id, socket);
    nsp.emitReserved('connect', socket);
    nsp.emitReserved('connection', socket);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /**
   * A request as a socket.io client's event with an ack: to the gate and the gateways' router
   * (the `onAny` listeners); resolves to the answer (undefined if the connection went first).
   */
  request(event: string, data: unknown): Promise<unknown> {
    if (this.ended || !this.connectedNow) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const pending = (this.pending ??= new Set());
      const ack = (answer: unknown): void => {
        if (!pending.delete(ack)) return;
        if (isRateRefusal(answer)) this.strike();
        resolve(answer);
      };
      pending.add(ack);
      for (const listener of this.anyListeners ?? []) listener.call(this, event, data, ack);
    });
  }

  async checkRate(): Promise<RateVerdict> {
    const principal = this.principal;
    let verdict: MessageVerdict;
    if (principal) {
      try {
        verdict = await this.services.countMessage(principal);
      } catch {
        return {
          ok: false,
          code: 'SERVICE_UNAVAILABLE',
          message: 'service temporarily unavailable (redis), retry',
          retry_after: RETRY_AFTER_S,
        };
      }
    } else {
      verdict = (this.rate ??= new PlainRate()).anonymous(this.services.anonymousPerSecond);
    }
    if (verdict.allowed) return { ok: true };
    this.strike();
    return {
      ok: false,
      code: 'RATE_LIMIT_EXCEEDED',
      message: `rate limit exceeded: too many messages per ${verdict.window}`,
      retry_after: verdict.retryAfter,
    };
  }

  sendFrame(frame: unknown): void {
    this.sendText(JSON.stringify(frame));
  }

  setClose(code: number, reason: string): void {
    this.closeCode = code;
    this.closeReason = reason;
  }

  end(code: number, reason: string): void {
    this.setClose(code, reason);
    this.close();
  }

  // --- what SendBudget and WriteCoalescer use ---

  /** What the client has not taken yet. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** The TCP socket, which the write coalescer corks. */
  get rawSocket(): { cork(): void; uncork(): void } | undefined {
    return (this.ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
  }

  terminate(): void {
    this.ws.terminate();
  }

  // --- the client's side ---

  /** A frame from the client: JSON checked before parsing, then the endpoint's. */
  async fromClient(text: string | null): Promise<void> {
    if (text === null) return this.protocol.invalid(this, 'binary frames are not accepted');
    const refusal: DomainError | undefined = refuseJsonText(text);
    if (refusal) return this.protocol.refused(this, refusal);
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return this.protocol.invalid(this, 'invalid request format');
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
      return this.protocol.invalid(this, 'invalid request format: a frame must be a JSON object');
    }
    try {
      await this.protocol.onFrame(this, frame as Record<string, unknown>);
    } catch (error) {
      this.services.reportError(this, error);
      this.protocol.invalid(this, 'internal error');
    }
  }

  /** The WebSocket closed (either side): answers nothing more, leaves the namespace. */
  closed(): void {
    this.ended = true;
    untrack(this);
    const pending = this.pending;
    this.pending = undefined;
    for (const resolve of pending ?? []) resolve(undefined);
    this.left('transport close');
  }

  private left(reason: string): void {
    if (!this.connectedNow) return;
    this.connectedNow = false;
    const { nsp } = this;
    nsp.adapter.delAll(this.id);
    if (nsp.sockets.get(this.id) === (this as unknown)) nsp.sockets.delete(this.id);
    for (const listener of this.disconnectListeners ?? []) listener.call(this, reason);
  }

  private close(): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
      this.ws.close(this.closeCode, this.closeReason.slice(0, 120));
    }
  }

  private sendText(text: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }

  /** One more refusal for rate; too many in a row of seconds and the client is told to back off. */
  private strike(): void {
    if ((this.rate ??= new PlainRate()).strike()) this.end(CLOSE.rateLimited, 'rate limited too often: back off');
  }
}

/** Whether `socket` is a plain connection rather than a socket.io Socket. */
export function isPlainConnection(socket: unknown): socket is PlainConnection {
  return socket instanceof PlainConnection;
}
