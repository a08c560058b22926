// `/ws?token=` (seed 002, contract section 7): receive-mostly. Every status change of the user's
// deposits and withdrawals (the `payment` events of the user's internal `payments` stream) is
// pushed as `{PaymentId, Status, Amount, OrderReferenceId, Currency, seq}`; `?since=` replays
// that stream from a seq. `{type:"ping"}` → `{type:"pong", timestamp}`. The test push of
// `POST /api/websocket/test-notification` arrives as the `test_notification` event.
import type { IncomingMessage } from 'node:http';
import type { DomainError } from '../../../errors/domain-error.js';
import type { StreamFrame } from '../../realtime.types.js';
import { bearerToken, credentialsOf, sinceOf, unixNow } from '../plain-frames.js';
import { closeCodeFor, CLOSE, type Credentials, type EndpointProtocol, type PlainContext } from '../plain-protocol.js';

export const PAYMENT_UPDATES_PATH = '/ws';
/** The socket.io event the test push travels as (to this endpoint's connections only). */
export const TEST_NOTIFICATION_EVENT = 'test_notification';

/** What the `payment` event of a deposit or withdrawal carries that this endpoint shows. */
interface PaymentView {
  payment_id: string;
  request_ref: string;
  status: string;
  amount: number;
  currency: string;
}

/** Seed 002's frame of a payment's status change. */
export function paymentUpdate(payment: PaymentView, seq: number) {
  return {
    PaymentId: payment.payment_id,
    Status: payment.status,
    Amount: payment.amount,
    OrderReferenceId: payment.request_ref,
    Currency: payment.currency,
    seq,
  };
}

const errorFrame = (code: string, message: string, extra: Record<string, unknown> = {}) => ({
  type: 'error',
  code,
  message,
  ...extra,
  timestamp: unixNow(),
});

export const paymentUpdatesEndpoint: EndpointProtocol = {
  path: PAYMENT_UPDATES_PATH,
  addressed: true,

  credentials(req: IncomingMessage, query: URLSearchParams): Credentials {
    // `since` names the payments stream here (the only one this endpoint shows), not the user channel.
    return credentialsOf(query.get('token') ?? bearerToken(req), undefined);
  },

  streams: (query) => [{ name: 'payments', since: sinceOf(query) }],

  async onOpen(ctx: PlainContext) {
    const outcome = await ctx.connect();
    if (!outcome.ok) {
      ctx.sendFrame(errorFrame(outcome.data.code, outcome.data.message));
      ctx.end(CLOSE.unauthorized, 'unauthorized');
    }
  },

  async onFrame(ctx: PlainContext, frame: Record<string, unknown>) {
    const verdict = await ctx.checkRate();
    if (!verdict.ok) {
      return ctx.sendFrame(errorFrame(verdict.code, verdict.message, { retry_after: verdict.retry_after }));
    }
    if (frame.type === 'ping') return ctx.sendFrame({ type: 'pong', timestamp: unixNow() });
    ctx.sendFrame(errorFrame('INVALID_REQUEST', 'this endpoint only pushes payment updates; send {"type":"ping"}'));
  },

  onEvent(ctx: PlainContext, event: string, payload: unknown) {
    if (event === 'stream') {
      const frame = payload as StreamFrame;
      if (frame.event === 'payment' && frame.channel.startsWith('~payments:')) {
        ctx.sendFrame(paymentUpdate(frame.payload as PaymentView, frame.seq));
      }
      return; // the user channel and settings are not this endpoint's
    }
    if (event === TEST_NOTIFICATION_EVENT) return ctx.sendFrame(payload);
    if (event === 'connected' || event === 'response') return;
    const code = closeCodeFor(event, payload);
    if (code !== undefined) ctx.setClose(code, event);
    ctx.sendFrame({ type: event, data: payload ?? {}, timestamp: unixNow() });
  },

  invalid(ctx: PlainContext, message: string) {
    ctx.sendFrame(errorFrame('INVALID_REQUEST', message));
  },

  refused(ctx: PlainContext, refusal: DomainError) {
    ctx.sendFrame(errorFrame(refusal.code, refusal.message, refusal.field ? { field: refusal.field } : {}));
  },
};
