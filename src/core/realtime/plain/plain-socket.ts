// One plain WebSocket client, seen by engine.io as a websocket transport (engine-bridge.ts): what
// engine.io and socket.io send (engine and socket.io packets) is translated into the endpoint's
// frames, and the client's frames into the socket.io packets a socket.io client would have sent.
// The endpoint's protocol (endpoints/*.ts) decides both translations; this class speaks the two
// packet formats, keeps the engine's heartbeat to itself, pings the client at the WebSocket level,
// and closes with the code the endpoint picks.
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import type { DomainError } from '../../errors/domain-error.js';
import { refuseJsonText } from '../../errors/json-input.js';
import type { EngineWebSocket } from './engine-bridge.js';
import type { EndpointProtocol, PlainContext } from './plain-protocol.js';

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

type ConnectOutcome = { ok: true; data: unknown } | { ok: false; data: { message?: string; code?: string } };

export class PlainSocket extends EventEmitter implements EngineWebSocket, PlainContext {
  readonly state = new Map<string, unknown>();
  /** The code the connection closes with when engine.io closes it, as the endpoint chose. */
  private closeCode = 1000;
  private closeReason = '';
  private nextAck = 1;
  private readonly acks = new Map<number, (payload: unknown) => void>();
  private connecting?: (outcome: ConnectOutcome) => void;
  private connectedNow = false;
  private lastHeard = Date.now();
  private readonly heartbeat: NodeJS.Timeout;
  private ended = false;

  constructor(
    private readonly ws: WebSocket,
    readonly protocol: EndpointProtocol,
    readonly query: URLSearchParams,
  ) {
    super();
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.lastHeard = Date.now();
      void this.fromClient(isBinary ? null : data.toString('utf8'));
    });
    ws.on('pong', () => {
      this.lastHeard = Date.now();
    });
    ws.once('close', () => {
      this.ended = true;
      clearInterval(this.heartbeat);
      for (const resolve of this.acks.values()) resolve(undefined);
      this.acks.clear();
      this.emit('close');
    });
    ws.on('error', (error) => this.emit('error', error));
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastHeard > IDLE_MS) this.ws.terminate();
      else this.ws.ping();
    }, PING_MS);
    this.heartbeat.unref();
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

  sendFrame(frame: unknown): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(frame));
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
      this.acks.set(id, resolve);
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
        this.connecting?.({ ok: true, data: payload });
        this.connecting = undefined;
        return;
      case CONNECT_ERROR:
        this.connecting?.({ ok: false, data: payload ?? {} });
        this.connecting = undefined;
        return;
      case ACK: {
        const resolve = this.acks.get(Number(digits));
        this.acks.delete(Number(digits));
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
