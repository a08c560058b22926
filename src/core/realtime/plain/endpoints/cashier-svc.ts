// `/cashier/svc/ws` (seed 000, contract section 7): `{type, data, id?}` requests answered with the
// envelope of section 3 plus `request_type` and the `id`; pushed events as
// `{type: event, data: payload, channel, seq, timestamp}`; subscribe/unsubscribe for payment and
// order channels; ping/pong. Credential: Authorization: Bearer, or ?token= for browsers.
import type { DomainError } from '../../../errors/domain-error.js';
import type { StreamFrame } from '../../realtime.types.js';
import { bearerToken, credentialsOf, requestTypeOf, RESERVED_TYPES, sinceOf, unixNow } from '../plain-frames.js';
import { closeCodeFor, CLOSE, type Credentials, type EndpointProtocol, type PlainContext } from '../plain-protocol.js';
import type { IncomingMessage } from 'node:http';

/** A channel event as this endpoint sends it: the same to every connection it reaches. */
const streamFrameOf = (frame: StreamFrame) => ({
  type: frame.event,
  data: frame.payload,
  channel: frame.channel,
  seq: frame.seq,
  timestamp: frame.timestamp,
});

const errorFrame = (code: string, message: string, extra: Record<string, unknown> = {}) => ({
  type: 'error',
  data: { message, code, ...extra },
  timestamp: unixNow(),
});

export const cashierSvcEndpoint: EndpointProtocol = {
  path: '/cashier/svc/ws',

  credentials(req: IncomingMessage, query: URLSearchParams): Credentials {
    return credentialsOf(bearerToken(req) ?? query.get('token') ?? undefined, undefined, sinceOf(query));
  },

  async onOpen(ctx: PlainContext) {
    const outcome = await ctx.connect();
    if (!outcome.ok) {
      ctx.sendFrame(errorFrame(outcome.data.code, outcome.data.message));
      ctx.end(CLOSE.unauthorized, 'unauthorized');
    }
  },

  async onFrame(ctx: PlainContext, frame: Record<string, unknown>) {
    const id = typeof frame.id === 'string' || typeof frame.id === 'number' ? frame.id : undefined;
    const answer = (body: Record<string, unknown>) => ctx.sendFrame(id === undefined ? body : { ...body, id });
    const type = requestTypeOf(frame.type);
    if (type === undefined || RESERVED_TYPES.has(type)) {
      return answer(errorFrame('INVALID_REQUEST', 'invalid request format'));
    }
    if (type === 'ping') return answer({ type: 'pong', timestamp: unixNow() });
    const data: unknown = frame.data === undefined ? {} : frame.data;
    if (type === 'subscribe' || type === 'unsubscribe') {
      const channel = typeof data === 'object' && data !== null ? (data as Record<string, unknown>).channel : data;
      const ack = (await ctx.request(
        type === 'subscribe' ? 'channel' : 'leave',
        type === 'subscribe' ? data : channel,
      )) as { ok: boolean; channel?: string; seq?: number; reset?: boolean; error?: { code: string; message: string } };
      if (!ack) return;
      if (!ack.ok) return answer({ ...errorFrame(ack.error!.code, ack.error!.message), request_type: type });
      const message = type === 'subscribe' ? 'subscribed' : 'unsubscribed';
      const result = {
        channel: ack.channel,
        ...(type === 'subscribe' ? { seq: ack.seq } : {}),
        ...(ack.reset ? { reset: true } : {}),
      };
      return answer({ type: 'success', data: { message, data: result }, request_type: type, timestamp: unixNow() });
    }
    const envelope = (await ctx.request(type, data)) as Record<string, unknown> | undefined;
    if (envelope) answer({ ...envelope, request_type: type });
  },

  onEvent(ctx: PlainContext, event: string, payload: unknown) {
    if (event === 'stream') return ctx.sendFrame(streamFrameOf(payload as StreamFrame));
    if (event === 'response') return; // requests are always sent with an ack here
    const code = closeCodeFor(event, payload);
    if (code !== undefined) ctx.setClose(code, event);
    ctx.sendFrame({ type: event, data: payload ?? {}, timestamp: unixNow() });
  },

  streamFrame: streamFrameOf,

  invalid(ctx: PlainContext, message: string) {
    ctx.sendFrame(errorFrame('INVALID_REQUEST', message));
  },

  refused(ctx: PlainContext, refusal: DomainError) {
    ctx.sendFrame(errorFrame(refusal.code, refusal.message, refusal.field ? { field: refusal.field } : {}));
  },
};
