// The gate every incoming socket message passes before its handler: rate limits (per user in
// Redis; per socket for receive-only sockets), malformed frames, unknown request types, requests
// from receive-only sockets, and payloads that are not objects. A refused message gets its error
// envelope and never reaches a handler. Handled events are checked by the socket.io adapter just
// before it calls the handler; everything else by one catch-all listener. The checks that need no
// round trip are made while the rate limit is counted, so a handler whose change waits for the
// verdict (@StartsWhileCounted(), ws-requests.ts) can start as soon as they pass.
import { Injectable, Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { AppConfig } from '../config/app-config.js';
import { RETRY_AFTER_S } from '../errors/dependency-errors.js';
import { DomainError } from '../errors/domain-error.js';
import type { ErrorCode } from '../errors/error-codes.js';
import { invalidRequestFormat } from '../errors/json-input.js';
import { MALFORMED_EVENT } from './lenient-parser.js';
import { RealtimeLimits, type MessageVerdict } from './realtime-limits.service.js';
import { RealtimeMetrics } from './realtime.metrics.js';
import { isAuthenticated, type SocketData } from './realtime.types.js';
import { routeOf } from './socket-handlers.js';
import { errorEnvelope } from './ws-envelope.js';
import { answer } from './ws-requests.js';

/** Events any socket may send, even a receive-only one; they have their own answer format. */
const CHANNEL_EVENTS = new Set(['channel', 'leave']);

/** What the gate decided of a message with a handler (RequestGate.admit). */
export interface Admission {
  /** Every check but the rate limit has passed; its count is on its way. */
  counting: boolean;
  /** Whether the handler may run, and what it does take effect; a refusal has been answered. */
  admitted: Promise<boolean>;
}

interface Windows {
  second: number;
  inSecond: number;
  minute: number;
  inMinute: number;
}

const isPlainObject = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

@Injectable()
export class RequestGate {
  private readonly logger = new Logger(RequestGate.name);
  private readonly anonymous = new WeakMap<Socket, Windows>();

  constructor(
    private readonly config: AppConfig,
    private readonly limits: RealtimeLimits,
    private readonly metrics: RealtimeMetrics,
  ) {}

  /** Answers what no handler takes (unknown request types, malformed frames) on this socket. */
  install(socket: Socket): void {
    socket.onAny(this.unhandled);
  }

  /**
   * Checks an event that has a handler. `admitted` is true when the handler may run (a refusal
   * has been answered); `counting` is true while only the rate limit's count is out, every other
   * check having passed (the adapter may then start a handler whose effects wait for it).
   */
  admit(socket: Socket, event: string, args: unknown[]): Admission {
    return this.check(socket, event, args, true);
  }

  /** Shared by every socket (`this` is the socket), so it costs no memory per socket. */
  private readonly unhandled = ((gate: RequestGate) =>
    function (this: Socket, event: unknown, ...args: unknown[]): void {
      const name = String(event);
      if (name !== MALFORMED_EVENT && routeOf(this, name)) return;
      void gate.check(this, name, args, false).admitted;
    })(this);

  /**
   * The message is counted first (a refused one counts too, and over the limit it is answered
   * RATE_LIMIT_EXCEEDED whatever else is wrong with it); the checks that need no round trip are
   * made meanwhile.
   */
  private check(socket: Socket, event: string, args: unknown[], handled: boolean): Admission {
    // A refused frame is answered under the request type it named, when it named one.
    const named = event === MALFORMED_EVENT && typeof args[1] === 'string' ? args[1] : event;
    const name = named.slice(0, 64);
    const ack = typeof args.at(-1) === 'function' ? args.at(-1) : undefined;
    const data = ack ? args.slice(0, -1) : args;
    const refuse = (code: ErrorCode, message: string, extra: Record<string, unknown> = {}) => {
      this.metrics.refused.inc({ code });
      answer(socket, ack, name, errorEnvelope(code, message, extra));
      return false;
    };
    const { principal } = socket.data as SocketData;
    const plan = isAuthenticated(principal) ? principal.plan : this.config.business.defaultPlan;
    const counted = isAuthenticated(principal)
      ? this.limits.checkMessage(principal.userId, plan)
      : this.checkAnonymous(socket, plan);
    const refusal = this.refusalOf(event, name, data, handled, isAuthenticated(principal));
    const admitted = (async () => {
      try {
        const verdict = await counted;
        if (!verdict.allowed) {
          const limit =
            verdict.window === 'minute'
              ? `${this.config.business.requestsPerMinute} requests per minute`
              : `${this.limits.planLimits(plan).messagesPerSecond} messages per second`;
          return refuse('RATE_LIMIT_EXCEEDED', `rate limit exceeded: at most ${limit}`, {
            retry_after: verdict.retryAfter,
          });
        }
      } catch (error) {
        this.logger.warn({ err: error, request_type: name }, 'request gate failed: Redis is unavailable');
        return refuse('SERVICE_UNAVAILABLE', 'service temporarily unavailable (redis), retry', {
          retry_after: RETRY_AFTER_S,
        });
      }
      if (refusal) return refuse(refusal.code, refusal.message, refusal.field ? { field: refusal.field } : {});
      return true;
    })();
    return { counting: refusal === undefined, admitted };
  }

  /** Why the message is refused, the rate limit aside; undefined when it is not. */
  private refusalOf(
    event: string,
    name: string,
    data: unknown[],
    handled: boolean,
    authenticated: boolean,
  ): { code: ErrorCode; message: string; field?: string } | undefined {
    if (event === MALFORMED_EVENT) return data[0] instanceof DomainError ? data[0] : invalidRequestFormat();
    if (!handled) return { code: 'INVALID_REQUEST', message: `unknown request type: ${name}` };
    if (CHANNEL_EVENTS.has(name)) return undefined;
    if (!authenticated) return { code: 'UNAUTHORIZED', message: 'unauthorized' };
    const malformed = data.length > 1 || (data.length === 1 && data[0] !== undefined && !isPlainObject(data[0]));
    if (malformed) return { code: 'INVALID_REQUEST', message: 'invalid request format: data must be an object' };
    return undefined;
  }

  /** Receive-only sockets have no user to count against: limit them per socket, in memory. */
  private checkAnonymous(socket: Socket, plan: string): MessageVerdict {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    const minute = Math.floor(now / 60_000);
    const windows = this.anonymous.get(socket) ?? { second, inSecond: 0, minute, inMinute: 0 };
    if (windows.second !== second) Object.assign(windows, { second, inSecond: 0 });
    if (windows.minute !== minute) Object.assign(windows, { minute, inMinute: 0 });
    windows.inSecond += 1;
    windows.inMinute += 1;
    this.anonymous.set(socket, windows);
    if (windows.inMinute > this.config.business.requestsPerMinute) {
      return { allowed: false, retryAfter: 60 - Math.floor((now % 60_000) / 1000), window: 'minute' };
    }
    if (windows.inSecond > this.limits.planLimits(plan).messagesPerSecond) {
      return { allowed: false, retryAfter: 1, window: 'second' };
    }
    return { allowed: true };
  }
}
