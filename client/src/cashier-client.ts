// The typed client of socket.io `/user` (contract sections 3 and 4): one method per request type,
// answering the reply's data or throwing CashierError; every event of every joined channel handed
// to the app exactly once and in order, across reconnections (it resumes with `since`); tokens
// refreshed before they expire; idempotency keys on money-moving requests, so a request cut off by
// a lost connection is sent again safely.
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { ChannelSequence } from './channel-sequence.js';
import {
  IDEMPOTENT_REQUEST_TYPES,
  USER_REQUEST_TYPES,
  type AnyFrame,
  type CamelCase,
  type ChannelAck,
  type Connected,
  type EventFrame,
  type ForceLogout,
  type RealtimeEvent,
  type RealtimeEventMap,
  type Reply,
  type RequestBody,
  type SuccessEnvelope,
  type ErrorEnvelope,
  type UserRequestType,
  type CashierErrorCode,
} from './contract.js';
import { Emitter } from './emitter.js';
import { CashierError } from './errors.js';
import { newIdempotencyKey } from './idempotency.js';

export const SOCKET_PATH = '/ws/socket.io';
const SETTINGS_CHANNEL = 'settings';

export interface CashierClientOptions {
  /** The service's base URL, e.g. `http://localhost:3000` (socket.io is at `/ws/socket.io`). */
  url: string;
  /** The access token (from `POST /api/v1/auth/login`). */
  token?: string;
  /**
   * Returns a fresh access token (e.g. through `POST /api/v1/auth/refresh`; see `sessionTokens`).
   * Called on `auth_expiring`, and when a reconnection is refused as unauthorized or the server
   * ends the socket because the token expired. Without it the client stops at expiry.
   */
  getToken?: () => Promise<string>;
  /** An API key instead of a token (`auth.apiKey`). */
  apiKey?: string;
  /** Where to resume after a restart of the app: what `positions()` returned. */
  resume?: Positions;
  /** Per attempt of a request, in ms (default 15 000). */
  requestTimeoutMs?: number;
  /** Reconnection back-off in ms: first delay and ceiling (defaults 500 and 5 000). */
  reconnectionDelay?: number;
  reconnectionDelayMax?: number;
  /** Default `['websocket']` (long polling needs sticky sessions behind a balancer). */
  transports?: ('websocket' | 'polling')[];
  /** Anything else for socket.io-client. */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

/** The last seq the app was handed, per channel (the user channel's separately). */
export interface Positions {
  user?: { channel: string; seq: number };
  channels?: Record<string, number>;
}

export interface RequestOptions {
  /** For a money-moving request: the key to use (default: a new random one). */
  idempotencyKey?: string;
  /** Overall time allowed, across resends after a reconnection (default: requestTimeoutMs). */
  timeoutMs?: number;
}

export interface ResetInfo {
  channel: string;
  /** The channel's seq now: re-read state, then take events after it. */
  seq: number;
}

export interface ClientEvents {
  /** Connected (again); `reset` when the history asked for is no longer retained. */
  connected: [info: Connected];
  disconnected: [reason: string];
  /** Every event of every joined channel, exactly once, in seq order per channel. */
  frame: [frame: AnyFrame];
  /** A channel could not be resumed where the app stood: re-read its state (see LiveState). */
  reset: [info: ResetInfo];
  /** The server ended the session (`force_logout`): the client does not reconnect. */
  logout: [info: ForceLogout];
  /** A new access token is in use. */
  token: [token: string];
  /** Something failed outside any request (a refused reconnection, a failed token refresh). */
  error: [error: Error];
}

type RequestMethod<K extends UserRequestType> = [RequestBody<K>] extends [undefined]
  ? (body?: undefined, options?: RequestOptions) => Promise<Reply<K>>
  : object extends RequestBody<K>
    ? (body?: RequestBody<K>, options?: RequestOptions) => Promise<Reply<K>>
    : (body: RequestBody<K>, options?: RequestOptions) => Promise<Reply<K>>;

/** `client.transfer({...})`, `client.getAccounts()`, ...: one method per request type of `/user`. */
export type RequestMethods = { [K in UserRequestType as CamelCase<K>]: RequestMethod<K> };

const IDEMPOTENT = new Set<string>(IDEMPOTENT_REQUEST_TYPES);
/** Requests that change nothing, so they may be sent again after a lost connection. */
const isRead = (type: string) => type.startsWith('get_') || type === 'calculate_fee' || type === 'refresh';
/** Refusals worth retrying: the instance is draining, the plan's connections are all in use, ... */
const TRANSIENT_REFUSALS = new Set<string>([
  'SERVICE_UNAVAILABLE',
  'CONNECTION_LIMIT',
  'RATE_LIMIT_EXCEEDED',
  'INTERNAL',
]);
const camel = (type: string) => type.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

type Envelope = SuccessEnvelope | ErrorEnvelope;
type Attempt = { kind: 'reply'; envelope: Envelope } | { kind: 'lost' } | { kind: 'timeout' };

// The request methods are made at run time from USER_REQUEST_TYPES (the server's list, checked
// against its request map), so the class and this interface declare the same members.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface CashierClient extends RequestMethods {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class CashierClient extends Emitter<ClientEvents> {
  readonly socket: Socket;
  private token: string | undefined;
  private readonly channels = new Map<string, ChannelSequence<AnyFrame>>();
  /** Handlers of onEvent(), by event name. */
  private readonly handlers = new Map<string, Set<(payload: unknown, frame: AnyFrame) => void>>();
  /** Between `connected` and the next disconnect. */
  private ready = false;
  private userChannel: string | undefined;
  private userId: string | null = null;
  private closed = false;
  private loggedOut = false;
  /** Set by force_logout `expired`: get a new token, then reconnect. */
  private reauthenticate = false;
  /** A refused handshake retried with a new token once; a second refusal stops the client. */
  private retriedAuth = false;
  private readonly connectedWaiters = new Set<() => void>();
  private readonly gapRequests = new Set<string>();
  /** Requests sent and not yet answered (settled as lost when the client closes). */
  private readonly inFlight = new Set<(attempt: Attempt) => void>();
  /** Refused handshakes in a row (for the back-off). */
  private refusals = 0;

  constructor(private readonly options: CashierClientOptions) {
    super();
    this.token = options.token;
    const resume = options.resume;
    if (resume?.user) {
      this.userChannel = resume.user.channel;
      this.track(resume.user.channel, resume.user.seq);
    }
    for (const [channel, seq] of Object.entries(resume?.channels ?? {})) this.track(channel, seq);

    this.socket = io(`${options.url.replace(/\/$/, '')}/user`, {
      path: SOCKET_PATH,
      transports: options.transports ?? ['websocket'],
      autoConnect: false,
      reconnectionDelay: options.reconnectionDelay ?? 500,
      reconnectionDelayMax: options.reconnectionDelayMax ?? 5000,
      // Re-read at every (re)connection: the current token, and where the user channel stands.
      auth: (cb) => cb(this.handshakeAuth()),
      ...options.socketOptions,
    });
    this.socket.on('connected', (info: Connected) => this.onConnected(info));
    this.socket.on('stream', (frame: AnyFrame) => this.onFrame(frame));
    this.socket.on('auth_expiring', () => void this.refreshToken());
    this.socket.on('force_logout', (info: ForceLogout) => this.onForceLogout(info));
    this.socket.on('request_reconnect', () => undefined); // the disconnect that follows reconnects
    this.socket.on('disconnect', (reason) => this.onDisconnect(reason));
    this.socket.on('connect_error', (error) => void this.onConnectError(error));

    for (const type of USER_REQUEST_TYPES) {
      Object.defineProperty(this, camel(type), {
        value: (body?: object, requestOptions?: RequestOptions) =>
          this.request(type, body as RequestBody<typeof type>, requestOptions),
        enumerable: false,
      });
    }
  }

  /** Connects; resolves with the `connected` event (rejects when the handshake is refused). */
  connect(): Promise<Connected> {
    if (this.closed) return Promise.reject(new CashierError('CLOSED', 'the client is closed'));
    return new Promise((resolve, reject) => {
      const offConnected = this.once('connected', (info) => {
        offError();
        resolve(info);
      });
      const offError = this.once('error', (error) => {
        offConnected();
        reject(error);
      });
      this.socket.connect();
    });
  }

  /** Closes the connection for good; requests in flight fail with `CLOSED`. */
  close(): void {
    this.closed = true;
    this.socket.disconnect();
    this.wakeWaiters();
  }

  get connected(): boolean {
    return this.ready && this.socket.connected;
  }

  /** The signed-in user (after connecting): their id and private channel. */
  get user(): { id: string | null; channel: string | undefined } {
    return { id: this.userId, channel: this.userChannel };
  }

  /** The last seq handed to the app per channel: keep it to resume after a reload (`resume`). */
  positions(): Positions {
    const channels: Record<string, number> = {};
    let user: Positions['user'];
    for (const [channel, sequence] of this.channels) {
      if (sequence.position === undefined) continue;
      if (channel === this.userChannel) user = { channel, seq: sequence.position };
      else channels[channel] = sequence.position;
    }
    return { user, channels };
  }

  /**
   * Sends request `type` and resolves to its reply's data, or throws CashierError with the
   * server's code. Money-moving requests get an idempotency key (unless the body has one), so they
   * are sent again, with the same key, if the connection drops before the reply; so are reads.
   * Any other request cut off that way fails with `CONNECTION_LOST` (its outcome is unknown).
   */
  async request<K extends UserRequestType>(
    type: K,
    body?: RequestBody<K>,
    options: RequestOptions = {},
  ): Promise<Reply<K>> {
    let payload: Record<string, unknown> = { ...(body ?? {}) };
    if (IDEMPOTENT.has(type) && payload.idempotency_key === undefined) {
      payload = { ...payload, idempotency_key: options.idempotencyKey ?? newIdempotencyKey() };
    }
    const repeatable = payload.idempotency_key !== undefined || isRead(type);
    const deadline = Date.now() + (options.timeoutMs ?? this.options.requestTimeoutMs ?? 15_000);
    for (;;) {
      if (this.closed || this.loggedOut) {
        throw new CashierError('CLOSED', 'the client is closed', { requestType: type });
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new CashierError('TIMEOUT', `no reply to ${type} in time`, { requestType: type });
      const attempt = await this.send(type, payload, remaining);
      if (attempt.kind === 'reply') {
        const { envelope } = attempt;
        if (envelope.type === 'success') return envelope.data.data as Reply<K>;
        throw CashierError.fromEnvelope(envelope.data, type);
      }
      if (attempt.kind === 'timeout') {
        throw new CashierError('TIMEOUT', `no reply to ${type} in time`, { requestType: type });
      }
      if (!repeatable) {
        throw new CashierError('CONNECTION_LOST', `the connection dropped before ${type} was answered`, {
          requestType: type,
        });
      }
      await this.untilConnected(deadline - Date.now());
    }
  }

  /**
   * Handles every frame of `event` (a RealtimeEventMap name, typed; or any other name) on any
   * joined channel, once and in order. Returns the function that removes the handler.
   */
  onEvent<E extends RealtimeEvent>(
    event: E,
    handler: (payload: RealtimeEventMap[E], frame: EventFrame<E>) => void,
  ): () => void;
  onEvent(event: string, handler: (payload: unknown, frame: AnyFrame) => void): () => void;
  onEvent(event: string, handler: (payload: never, frame: never) => void): () => void {
    const handle = handler as (payload: unknown, frame: AnyFrame) => void;
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(handle);
    return () => this.handlers.get(event)?.delete(handle);
  }

  /**
   * Joins a channel (a payment's or an order's id, `settings`): its events are handed on from now,
   * or from after `since` (0: its whole retained history). It is joined again, resuming, after
   * every reconnection.
   */
  async join(channel: string, options: { since?: number } = {}): Promise<{ seq: number; reset: boolean }> {
    const sequence = this.channels.get(channel) ?? this.track(channel, options.since);
    try {
      return await this.joinOnServer(sequence);
    } catch (error) {
      if (channel !== this.userChannel) this.channels.delete(channel);
      throw error;
    }
  }

  async leave(channel: string): Promise<void> {
    this.channels.delete(channel);
    if (this.socket.connected) await this.socket.timeout(this.timeoutMs).emitWithAck('leave', channel);
  }

  // --- connection life ---

  private get timeoutMs(): number {
    return this.options.requestTimeoutMs ?? 15_000;
  }

  private handshakeAuth(): Record<string, unknown> {
    const auth: Record<string, unknown> = {};
    if (this.token) auth.token = this.token;
    if (this.options.apiKey) auth.apiKey = this.options.apiKey;
    const since = this.userChannel === undefined ? undefined : this.channels.get(this.userChannel)?.position;
    if (since !== undefined) auth.since = since;
    return auth;
  }

  private track(channel: string, position?: number): ChannelSequence<AnyFrame> {
    const sequence = new ChannelSequence<AnyFrame>(channel, (frame) => this.deliver(frame), position);
    this.channels.set(channel, sequence);
    return sequence;
  }

  private onConnected(info: Connected): void {
    this.ready = true;
    this.refusals = 0;
    this.retriedAuth = false;
    this.userId = info.user_id;
    if (info.channel) {
      if (this.userChannel !== undefined && this.userChannel !== info.channel) this.channels.delete(this.userChannel);
      this.userChannel = info.channel;
      const sequence = this.channels.get(info.channel) ?? this.track(info.channel);
      const seq = info.seq ?? 0;
      if (sequence.position === undefined) sequence.moveTo(seq);
      else if (info.reset) {
        sequence.moveTo(seq);
        this.emit('reset', { channel: info.channel, seq });
      }
    }
    // The server joined `settings` itself; every other channel is joined again where it stood.
    if (!this.channels.has(SETTINGS_CHANNEL)) this.track(SETTINGS_CHANNEL);
    for (const sequence of this.channels.values()) {
      if (sequence.channel === this.userChannel) continue;
      this.joinOnServer(sequence).catch((error: unknown) => this.reportJoinFailure(sequence.channel, error));
    }
    this.wakeWaiters();
    this.emit('connected', info);
  }

  private async joinOnServer(sequence: ChannelSequence<AnyFrame>): Promise<{ seq: number; reset: boolean }> {
    const since = sequence.position;
    const body = since === undefined ? sequence.channel : { channel: sequence.channel, since };
    const ack = (await this.socket.timeout(this.timeoutMs).emitWithAck('channel', body)) as ChannelAck;
    if (!ack.ok) throw new CashierError(ack.error.code, ack.error.message, { requestType: 'channel' });
    const reset = ack.reset === true;
    if (since === undefined) sequence.settle(ack.seq);
    else if (reset) {
      sequence.moveTo(ack.seq);
      this.emit('reset', { channel: sequence.channel, seq: ack.seq });
    }
    return { seq: ack.seq, reset };
  }

  private reportJoinFailure(channel: string, error: unknown): void {
    if (!this.socket.connected) return; // joined again at the next connection
    if (error instanceof CashierError && error.code === 'SUBSCRIPTION_FAILED') this.channels.delete(channel);
    this.emit('error', error instanceof Error ? error : new Error(String(error)));
  }

  private onFrame(frame: AnyFrame): void {
    const sequence = this.channels.get(frame.channel);
    if (!sequence) return; // a channel left a moment ago
    if (sequence.accept(frame) === 'held' && sequence.hasGap) void this.fillGap(sequence);
  }

  /** Frames arrived beyond a missing one: ask the server for what follows the position. */
  private async fillGap(sequence: ChannelSequence<AnyFrame>): Promise<void> {
    if (this.gapRequests.has(sequence.channel)) return;
    this.gapRequests.add(sequence.channel);
    try {
      await this.joinOnServer(sequence);
    } catch (error) {
      this.reportJoinFailure(sequence.channel, error);
    } finally {
      this.gapRequests.delete(sequence.channel);
    }
  }

  private deliver(frame: AnyFrame): void {
    this.emit('frame', frame);
    for (const handle of [...(this.handlers.get(frame.event) ?? [])]) {
      try {
        handle(frame.payload, frame);
      } catch (error) {
        this.listenerFailed(error, 'frame');
      }
    }
  }

  /** An app's handler threw: reported as `error` (and rethrown when it was an `error` handler). */
  protected override listenerFailed(error: unknown, event: keyof ClientEvents): void {
    if (event === 'error') super.listenerFailed(error, event);
    else this.emit('error', error instanceof Error ? error : new Error(String(error)));
  }

  private async refreshToken(): Promise<boolean> {
    if (!this.options.getToken) return false;
    try {
      const token = await this.options.getToken();
      this.token = token;
      if (this.socket.connected) await this.request('refresh', { access_token: token });
      this.emit('token', token);
      return true;
    } catch (error) {
      this.emit('error', error instanceof Error ? error : new Error(String(error)));
      return false;
    }
  }

  private onForceLogout(info: ForceLogout): void {
    if (info.reason === 'expired' && this.options.getToken) {
      this.reauthenticate = true;
      return;
    }
    this.loggedOut = true;
    this.wakeWaiters();
    this.emit('logout', info);
  }

  private onDisconnect(reason: Socket.DisconnectReason): void {
    this.ready = false;
    this.emit('disconnected', reason);
    if (reason !== 'io server disconnect' || this.closed || this.loggedOut) return;
    // The server closed the socket (a shutdown's request_reconnect, an expired token, a backlog
    // too slow to drain): socket.io does not reconnect by itself then.
    const again = async () => {
      if (this.reauthenticate) {
        this.reauthenticate = false;
        if (!(await this.refreshToken())) return;
      }
      if (!this.closed && !this.loggedOut) this.socket.connect();
    };
    setTimeout(() => void again(), 200 + Math.random() * 800);
  }

  private async onConnectError(error: Error & { data?: { status_code?: number; code?: string } }): Promise<void> {
    if (this.socket.active) return; // socket.io retries by itself (the server is unreachable)
    // Refused by the server. An expired token is retried once with a fresh one.
    const unauthorized = error.message === 'unauthorized' || error.data?.status_code === 401;
    if (unauthorized && this.options.getToken && !this.retriedAuth) {
      this.retriedAuth = true;
      if (await this.refreshToken()) {
        this.socket.connect();
        return;
      }
    }
    const code = (error.data?.code ?? (unauthorized ? 'UNAUTHORIZED' : 'INTERNAL')) as CashierErrorCode;
    if (TRANSIENT_REFUSALS.has(code) && !this.closed) {
      // An instance shutting down, or the plan's connections all in use: try again, backing off.
      const base = this.options.reconnectionDelay ?? 500;
      const delay = Math.min(this.options.reconnectionDelayMax ?? 5000, base * 2 ** this.refusals);
      this.refusals += 1;
      setTimeout(
        () => {
          if (!this.closed && !this.loggedOut && !this.socket.connected) this.socket.connect();
        },
        delay * (0.5 + Math.random()),
      );
      if (code !== 'CONNECTION_LIMIT') return;
    }
    this.emit('error', new CashierError(code, error.message, { details: { ...error.data } }));
  }

  /** Requests waiting for a connection look again (connected, closed or logged out). */
  private wakeWaiters(): void {
    for (const wake of [...this.connectedWaiters]) wake();
    this.connectedWaiters.clear();
    // A request sent while disconnected waits in socket.io's buffer, which a close never answers.
    if (this.closed || this.loggedOut) for (const settle of [...this.inFlight]) settle({ kind: 'lost' });
  }

  private untilConnected(timeoutMs: number): Promise<void> {
    if (this.connected || this.closed || this.loggedOut) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(
        () => {
          this.connectedWaiters.delete(wake);
          resolve();
        },
        Math.max(0, timeoutMs),
      );
      this.connectedWaiters.add(wake);
    });
  }

  private send(type: string, payload: unknown, timeoutMs: number): Promise<Attempt> {
    return new Promise((resolve) => {
      const settle = (attempt: Attempt) => {
        this.inFlight.delete(settle);
        resolve(attempt);
      };
      this.inFlight.add(settle);
      this.socket.timeout(timeoutMs).emit(type, payload, (error: Error | null, envelope: Envelope) => {
        if (!error) settle({ kind: 'reply', envelope });
        else settle({ kind: error.message.includes('disconnected') ? 'lost' : 'timeout' });
      });
    });
  }
}
