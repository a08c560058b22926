// One plain WebSocket client, seen by engine.io as a websocket transport (engine-bridge.ts): what
// engine.io and socket.io send (engine and socket.io packets) is translated into the endpoint's
// frames, and the client's frames into the socket.io packets a socket.io client would have sent.
// The endpoint's protocol (endpoints/*.ts) decides both translations; this class speaks the two
// packet formats, keeps the engine's heartbeat to itself, pings the client at the WebSocket level,
// and closes with the code the endpoint picks.
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import type { DomainError } from '../../errors/domain-error.js';
import { RETRY_AFTER_S } from '../../errors/dependency-errors.js';
import { refuseJsonText } from '../../errors/json-input.js';
import type { MessageVerdict } from '../realtime-limits.service.js';
import type { AuthenticatedPrincipal, StreamFrame } from '../realtime.types.js';
import type { EngineWebSocket } from './engine-bridge.js';
import { CLOSE, type EndpointProtocol, type PlainContext, type RateVerdict } from './plain-protocol.js';

/** What a plain socket needs of the realtime core beyond socket.io itself. */
export interface PlainServices {
  /** The principal of the /user socket `sid` of this instance. */
  principalOf(sid: string): AuthenticatedPrincipal | undefined;
  /** Counts one message of a user against the per-minute and per-second windows (RealtimeLimits). */
  countMessage(principal: AuthenticatedPrincipal): Promise<MessageVerdict>;
  /** Messages per second a connection may send before it has authenticated. */
  readonly anonymousPerSecond: number;
}

/** Refusals for rate that close the connection with 4029 when they come this often. */
const RATE_STRIKES = 20;
const RATE_STRIKE_WINDOW_MS = 10_000;

/** WebSocket-level ping interval, and how long a client may stay silent (contract section 7). */
export const PING_MS = 25_000;
export const IDLE_MS = 60_000;

const NAMESPACE = '/user';
/** socket.io packet types (socket.io-parser). */
const CONNECT = '0';
const DISCONNECT = '1';
const EVENT = '2';
const ACK = '3';
const CONNECT_ERROR = '4';

/** How a channel event starts as an engine packet: engine MESSAGE, socket.io EVENT on /user, no ack id. */
const STREAM_PACKET = `4${EVENT}${NAMESPACE},["stream",`;
/** Where its socket.io arguments (`["stream",{...}]`) start. */
const STREAM_ARGS_AT = `4${EVENT}${NAMESPACE},`.length;

/**
 * The last channel event an endpoint with `streamFrame` encoded. socket.io hands every connection
 * a channel event reaches the same packet (one broadcast), so the first connection decodes,
 * translates and encodes it, and the others of the endpoint send that text as it is.
 */
let lastStream: { protocol: EndpointProtocol; packet: string; text: string } | undefined;

/**
 * The open plain sockets of the process, pinged by one timer (as ws's README does it) rather than
 * by a timer each: an idle connection then holds no Timeout of its own.
 */
const live = new Set<PlainSocket>();
let heartbeat: NodeJS.Timeout | undefined;

function beat(): void {
  const now = Date.now();
  for (const socket of live) socket.beat(now);
}

function track(socket: PlainSocket): void {
  live.add(socket);
  if (heartbeat) return;
  heartbeat = setInterval(beat, PING_MS);
  heartbeat.unref();
}

function untrack(socket: PlainSocket): void {
  live.delete(socket);
  if (live.size > 0 || !heartbeat) return;
  clearInterval(heartbeat);
  heartbeat = undefined;
}

type ConnectOutcome = { ok: true; data: unknown } | { ok: false; data: { message: string; code: string } };

export class PlainSocket extends EventEmitter implements EngineWebSocket, PlainContext {
  readonly state = new Map<string, unknown>();
  /** The code the connection closes with when engine.io closes it, as the endpoint chose. */
  private closeCode = 1000;
  private closeReason = '';
  private nextAck = 1;
  /** Requests awaiting their answer; made by the first request (an idle connection has none). */
  private acks?: Map<number, (payload: unknown) => void>;
  private connecting?: (outcome: ConnectOutcome) => void;
  private connectedNow = false;
  private lastHeard = Date.now();
  private ended = false;
  private sid?: string;
  /** Frames of this second before authentication, and refusals for rate of the current window. */
  private anonymousSecond = 0;
  private anonymousCount = 0;
  private strikesSince = 0;
  private strikesCount = 0;

  constructor(
    private readonly ws: WebSocket,
    readonly protocol: EndpointProtocol,
    readonly query: URLSearchParams,
    private readonly services: PlainServices,
  ) {
    super();
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.lastHeard = Date.now();
      void this.fromClient(isBinary ? null : data.toString('utf8'));
    });
    ws.on('pong', () => {
      this.lastHeard = Date.now();
    });
    // `on`, not `once`: ws emits 'close' once, and a once-wrapper is two more objects per connection.
    ws.on('close', () => {
      this.ended = true;
      untrack(this);
      for (const resolve of this.acks?.values() ?? []) resolve(undefined);
      this.acks = undefined;
      this.emit('close');
    });
    ws.on('error', (error) => this.emit('error', error));
    track(this);
  }

  /** The heartbeat: a ping, or the end of a client silent for longer than IDLE_MS. */
  beat(now: number): void {
    if (now - this.lastHeard > IDLE_MS) this.ws.terminate();
    else this.ws.ping();
  }

  // --- what engine.io's websocket transport uses ---

  /** An engine packet on its way to the client. */
  send(data: string, callback?: (error?: Error) => void): void {
    this.fromServer(data);
    if (callback) process.nextTick(callback);
  }

  /** engine.io closing the transport (no code), or a bound being enforced (1013). */
  close(code?: number, reason?: string): void {
    if (code !== undefined) this.setClose(code, reason ?? '');
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
      this.ws.close(this.closeCode, this.closeReason.slice(0, 120));
    }
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** What the client has not taken yet (SendBudget reads it). */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** The TCP socket, which the write coalescer corks. */
  get _socket(): unknown {
    return (this.ws as unknown as { _socket?: unknown })._socket;
  }

  // --- what endpoint protocols use (PlainContext) ---

  get connected(): boolean {
    return this.connectedNow;
  }

  get principal(): AuthenticatedPrincipal | undefined {
    return this.connectedNow && this.sid ? this.services.principalOf(this.sid) : undefined;
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
      const second = Math.floor(Date.now() / 1000);
      if (this.anonymousSecond !== second) {
        this.anonymousSecond = second;
        this.anonymousCount = 0;
      }
      this.anonymousCount += 1;
      verdict =
        this.anonymousCount > this.services.anonymousPerSecond
          ? { allowed: false, retryAfter: 1, window: 'second' }
          : { allowed: true };
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

  /** One more refusal for rate; too many in a row of seconds and the client is told to back off. */
  private strike(): void {
    const now = Date.now();
    if (now - this.strikesSince > RATE_STRIKE_WINDOW_MS) {
      this.strikesSince = now;
      this.strikesCount = 0;
    }
    this.strikesCount += 1;
    if (this.strikesCount >= RATE_STRIKES) this.end(CLOSE.rateLimited, 'rate limited too often: back off');
  }

  sendFrame(frame: unknown): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(frame));
  }

  /** A channel event, for an endpoint whose frame of it depends on the event alone (streamFrame). */
  private sendStream(packet: string, streamFrame: (frame: StreamFrame) => unknown): void {
    let encoded = lastStream;
    if (encoded?.packet !== packet || encoded.protocol !== this.protocol) {
      const [, frame] = JSON.parse(packet.slice(STREAM_ARGS_AT)) as [string, StreamFrame];
      encoded = { protocol: this.protocol, packet, text: JSON.stringify(streamFrame(frame)) };
      lastStream = encoded;
    }
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(encoded.text);
  }

  /** Sends socket.io's CONNECT on the client's behalf; resolves with the outcome. */
  connect(auth: Record<string, unknown>): Promise<ConnectOutcome> {
    return new Promise((resolve) => {
      this.connecting = resolve;
      this.toServer(`${CONNECT}${NAMESPACE},${JSON.stringify(auth)}`);
    });
  }

  /** Emits `event` with `data` as a socket.io client would, with an ack; resolves with the answer. */
  request(event: string, data: unknown): Promise<unknown> {
    if (this.ended) return Promise.resolve(undefined);
    const id = this.nextAck++;
    return new Promise((resolve) => {
      this.acks ??= new Map();
      this.acks.set(id, (answer) => {
        if (isRateRefusal(answer)) this.strike();
        resolve(answer);
      });
      this.toServer(`${EVENT}${NAMESPACE},${id}${JSON.stringify([event, data])}`);
    });
  }

  setClose(code: number, reason: string): void {
    this.closeCode = code;
    this.closeReason = reason;
  }

  end(code: number, reason: string): void {
    this.setClose(code, reason);
    this.close();
  }

  // --- translation ---

  /** A frame from the client: JSON checked before parsing, then the endpoint's. */
  private async fromClient(text: string | null): Promise<void> {
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
      this.emit('error', error);
      this.protocol.invalid(this, 'internal error');
    }
  }

  /** An engine packet from the server: the engine's own are answered here, socket.io's translated. */
  private fromServer(packet: string): void {
    const type = packet.charAt(0);
    if (type === '0') {
      // Engine open: the connection exists; the endpoint connects to /user (now or once authenticated).
      setImmediate(() => void this.protocol.onOpen(this));
      return;
    }
    if (type === '2') {
      // Engine ping: answered at once; the client's liveness is the WebSocket ping's business.
      setImmediate(() => this.emit('message', Buffer.from('3'), false));
      return;
    }
    if (type !== '4') return;
    const { streamFrame } = this.protocol;
    if (streamFrame && packet.startsWith(STREAM_PACKET)) return this.sendStream(packet, streamFrame);
    this.fromSocketIo(packet.slice(1));
  }

  private fromSocketIo(packet: string): void {
    const type = packet.charAt(0);
    let rest = packet.slice(1);
    if (rest.startsWith(NAMESPACE)) {
      rest = rest.slice(NAMESPACE.length + (rest.charAt(NAMESPACE.length) === ',' ? 1 : 0));
    }
    const digits = /^\d+/.exec(rest)?.[0];
    if (digits) rest = rest.slice(digits.length);
    const payload: unknown = rest ? JSON.parse(rest) : undefined;
    switch (type) {
      case CONNECT:
        this.connectedNow = true;
        this.sid = (payload as { sid?: string } | undefined)?.sid;
        this.connecting?.({ ok: true, data: payload });
        this.connecting = undefined;
        return;
      case CONNECT_ERROR: {
        // socket.io sends the middleware's error as {message, data}; the handshake's refusal is in data.
        const error = (payload ?? {}) as { message?: string; data?: { code?: string; message?: string } };
        this.connecting?.({
          ok: false,
          data: {
            code: error.data?.code ?? 'UNAUTHORIZED',
            message: error.data?.message ?? error.message ?? 'unauthorized',
          },
        });
        this.connecting = undefined;
        return;
      }
      case ACK: {
        const resolve = this.acks?.get(Number(digits));
        this.acks?.delete(Number(digits));
        resolve?.((payload as unknown[])[0]);
        return;
      }
      case EVENT: {
        const [event, ...args] = payload as [string, ...unknown[]];
        this.protocol.onEvent(this, event, args[0]);
        return;
      }
      case DISCONNECT:
        this.connectedNow = false;
        return;
      default:
        return;
    }
  }

  /** A packet as if the client had sent it. */
  private toServer(socketIoPacket: string): void {
    if (this.ended) return;
    this.emit('message', Buffer.from(`4${socketIoPacket}`), false);
  }
}

/** Whether a reply is socket.io's refusal of a request for rate. */
function isRateRefusal(answer: unknown): boolean {
  const data = (answer as { type?: string; data?: { code?: string } } | undefined)?.data;
  return (answer as { type?: string } | undefined)?.type === 'error' && data?.code === 'RATE_LIMIT_EXCEEDED';
}
