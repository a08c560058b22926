// `/api/v1/ws?token=<access_token>` (seed 001, contract section 7): the mobile app's socket. One
// connection per user (a new one replaces the older, on any instance); every connection hears
// `settings` at once and subscribes to the logical channels of mobile-channels.ts with
// `{event:"subscribe"|"unsubscribe", channel}`; `{event:"ping"}` → `{event:"pong"}`. Pushed events
// are `{event, channel, data, seq}`. The logical channels are filters over the streams the /user
// connection receives anyway (user channel, `settings`, `~payments`); payment and order ids are
// joined and left on socket.io.
import type { DomainError } from '../../../errors/domain-error.js';
import { bearerToken, credentialsOf, sinceOf } from '../plain-frames.js';
import { closeCodeFor, CLOSE, type Credentials, type EndpointProtocol, type PlainContext } from '../plain-protocol.js';
import type { StreamFrame } from '../../realtime.types.js';
import {
  CHANNELS,
  forceLogoutEvent,
  mobileEventOf,
  streamChannel,
  subscriptionOf,
  type MobileUser,
  type Subscription,
} from './mobile-channels.js';
import type { IncomingMessage } from 'node:http';

type ErrorData = { code: string; message: string; retry_after?: number; field?: string };

const errorFrame = (data: ErrorData, channel?: string) => ({
  event: 'error',
  ...(channel !== undefined ? { channel } : {}),
  data,
});

/** What one connection keeps (in its PlainContext state). */
class MobileConnection {
  user?: MobileUser;
  /** The logical channels (and ids) whose events are sent; `settings` from the start (seed 001). */
  readonly subscribed = new Set<string>([CHANNELS.settings]);
  /** The last seq of each stream channel that reached the connection (`subscribed` answers with it). */
  readonly held = new Map<string, number>();
  /** The last seq sent on each logical channel: a stream re-sent from `since` never sends one twice. */
  readonly sent = new Map<string, number>();
  /**
   * `?since=` of the URL (the user channel). Replayed into each logical channel of the user channel
   * when it is first subscribed: replayed at connect, it would arrive before any subscription.
   */
  readonly since?: number;
  readonly replayed = new Set<string>();
  /** Who the connection is once socket.io's `connected` came; undefined if the connection was refused. */
  readonly ready: Promise<MobileUser | undefined>;
  settle!: (user: MobileUser | undefined) => void;
  /** Client frames are handled one after the other, so answers and subscriptions keep their order. */
  queue: Promise<unknown> = Promise.resolve();

  constructor(query: URLSearchParams) {
    this.since = sinceOf(query);
    this.ready = new Promise((resolve) => (this.settle = resolve));
  }

  hold(channel: string, seq: number): void {
    if (seq > (this.held.get(channel) ?? 0)) this.held.set(channel, seq);
  }

  /**
   * The latest seq the connection holds of the stream a logical channel reads; 0 for none, or no
   * stream. `connected` tells the user channel's at once; `settings` and `~payments` are joined
   * without a word of their seq, so the connection holds theirs from their first frame on.
   */
  heldFor(subscription: Subscription, user: MobileUser): number {
    return subscription.kind === 'stream' ? (this.held.get(streamChannel(subscription.stream, user)) ?? 0) : 0;
  }

  /** Whether subscribing to `channel` first replays the user channel from `since`. */
  replaysOn(channel: string, subscription: Subscription): boolean {
    const fromUserChannel = subscription.kind === 'stream' && subscription.stream === 'user';
    return fromUserChannel && this.since !== undefined && !this.replayed.has(channel);
  }
}

function connectionOf(ctx: PlainContext): MobileConnection {
  let connection = ctx.state.get('mobile') as MobileConnection | undefined;
  if (!connection) {
    connection = new MobileConnection(ctx.query);
    ctx.state.set('mobile', connection);
  }
  return connection;
}

/** A refusal in a socket.io answer: a channel ack's `{ok:false, error}` or the gate's error envelope. */
function refusalOf(answer: unknown): ErrorData | undefined {
  const reply = answer as
    { ok?: boolean; error?: ErrorData; type?: string; data?: ErrorData & { message: string } } | undefined;
  if (reply?.ok === false && reply.error) return { code: reply.error.code, message: reply.error.message };
  if (reply?.type === 'error' && reply.data) {
    const { code, message, retry_after } = reply.data;
    return { code, message, ...(retry_after !== undefined ? { retry_after } : {}) };
  }
  return undefined;
}

/** A refused connect to /user: do not retry an unauthorized token; reconnect after a restart. */
function closeCodeOfRefusal(code: string | undefined): number {
  if (code === 'UNAUTHORIZED') return CLOSE.unauthorized;
  return code === 'SERVICE_UNAVAILABLE' ? CLOSE.restart : CLOSE.policy;
}

/**
 * One client frame. What goes to socket.io (ids, a replay) is counted at its gate; what is
 * answered here is counted here.
 */
async function handleFrame(ctx: PlainContext, connection: MobileConnection, frame: Record<string, unknown>) {
  const user = await connection.ready;
  if (!user) return;
  const { event, channel } = frame;
  if ((event === 'subscribe' || event === 'unsubscribe') && typeof channel === 'string') {
    const subscription = subscriptionOf(channel);
    if (subscription?.kind === 'id') return followId(ctx, connection, event, channel);
    if (event === 'subscribe' && subscription && connection.replaysOn(channel, subscription)) {
      return subscribeWithReplay(ctx, connection, user, channel, subscription);
    }
    if (!(await rateAllows(ctx))) return;
    if (!subscription) {
      return ctx.sendFrame(
        errorFrame({ code: 'SUBSCRIPTION_FAILED', message: `unknown channel: ${channel}` }, channel),
      );
    }
    if (event === 'subscribe') connection.subscribed.add(channel);
    else connection.subscribed.delete(channel);
    return ctx.sendFrame({ event: `${event}d`, channel, seq: connection.heldFor(subscription, user) });
  }
  if (!(await rateAllows(ctx))) return;
  if (event === 'ping') return ctx.sendFrame({ event: 'pong' });
  const message =
    event === 'subscribe' || event === 'unsubscribe'
      ? `${event}: channel must be a string`
      : 'invalid request format: event must be "subscribe", "unsubscribe" or "ping"';
  ctx.sendFrame(errorFrame({ code: 'INVALID_REQUEST', message }));
}

/** Counts a frame answered here; a refusal is answered with the seed's error frame. */
async function rateAllows(ctx: PlainContext): Promise<boolean> {
  const verdict = await ctx.checkRate();
  if (verdict.ok) return true;
  const { code, message, retry_after } = verdict;
  ctx.sendFrame(errorFrame({ code, message, retry_after }));
  return false;
}

/**
 * The first subscription to a logical channel of the user channel on a connection opened with
 * `?since=`: socket.io re-sends the user channel from `since` (it is joined already), the replayed
 * frames pass the filter now that the channel is subscribed, and `sent` drops those another
 * logical channel had already. They precede the `subscribed` answer, which follows socket.io's ack.
 */
async function subscribeWithReplay(
  ctx: PlainContext,
  connection: MobileConnection,
  user: MobileUser,
  channel: string,
  subscription: Subscription,
): Promise<void> {
  connection.subscribed.add(channel);
  connection.replayed.add(channel);
  const answer = await ctx.request('channel', { channel: user.userChannel, since: connection.since });
  if (answer === undefined) return;
  const refusal = refusalOf(answer);
  if (refusal) {
    connection.subscribed.delete(channel);
    connection.replayed.delete(channel);
    return ctx.sendFrame(errorFrame(refusal, channel));
  }
  const reset = (answer as { reset?: boolean }).reset === true;
  const seq = connection.heldFor(subscription, user);
  ctx.sendFrame({ event: 'subscribed', channel, seq, ...(reset ? { reset: true } : {}) });
}

/** A payment or order id: joined or left on socket.io, which checks it is the user's own. */
async function followId(
  ctx: PlainContext,
  connection: MobileConnection,
  event: 'subscribe' | 'unsubscribe',
  channel: string,
): Promise<void> {
  const first = !connection.subscribed.has(channel);
  // Subscribed before the join, so no frame that follows the join is filtered out meanwhile.
  if (event === 'subscribe') connection.subscribed.add(channel);
  const answer = await ctx.request(event === 'subscribe' ? 'channel' : 'leave', channel);
  if (answer === undefined) return;
  const refusal = refusalOf(answer);
  if (refusal) {
    if (event === 'subscribe' && first) connection.subscribed.delete(channel);
    return ctx.sendFrame(errorFrame(refusal, channel));
  }
  if (event === 'subscribe') connection.hold(channel, (answer as { seq: number }).seq);
  else connection.subscribed.delete(channel);
  ctx.sendFrame({ event: `${event}d`, channel, seq: connection.held.get(channel) ?? 0 });
}

function onStream(ctx: PlainContext, connection: MobileConnection, frame: StreamFrame): void {
  connection.hold(frame.channel, frame.seq);
  const user = connection.user;
  const mobile = user && mobileEventOf(frame, user);
  if (!mobile || !connection.subscribed.has(mobile.channel)) return;
  if (mobile.seq <= (connection.sent.get(mobile.channel) ?? 0)) return;
  connection.sent.set(mobile.channel, mobile.seq);
  ctx.sendFrame(mobile);
}

export const mobileApiEndpoint: EndpointProtocol = {
  path: '/api/v1/ws',
  single: true,
  ownChannelsOnly: true,

  credentials(req: IncomingMessage, query: URLSearchParams): Credentials {
    // `since` is not given to the handshake: see MobileConnection.since.
    return credentialsOf(query.get('token') ?? bearerToken(req), undefined);
  },

  streams: () => [{ name: 'payments' }],

  async onOpen(ctx: PlainContext) {
    const connection = connectionOf(ctx);
    const outcome = await ctx.connect();
    if (outcome.ok) return;
    connection.settle(undefined);
    const { code, message } = outcome.data;
    ctx.sendFrame(errorFrame({ code, message }));
    ctx.end(closeCodeOfRefusal(code), message);
  },

  onFrame(ctx: PlainContext, frame: Record<string, unknown>) {
    const connection = connectionOf(ctx);
    const turn = connection.queue.then(() => handleFrame(ctx, connection, frame));
    // The next frame waits for this one, not for its success (PlainConnection reports a failure).
    connection.queue = turn.catch(() => undefined);
    return turn;
  },

  onEvent(ctx: PlainContext, event: string, payload: unknown) {
    const connection = connectionOf(ctx);
    switch (event) {
      case 'stream':
        return onStream(ctx, connection, payload as StreamFrame);
      case 'connected': {
        // Seed 001 has no such frame: the connection only learns who it is and where the user channel stands.
        const { user_id, channel, seq } = payload as { user_id: string; channel: string; seq: number };
        connection.user = { userId: user_id, userChannel: channel };
        connection.hold(channel, seq);
        connection.settle(connection.user);
        return;
      }
      case 'force_logout':
        // Sent whether or not the client subscribed to it: it must learn why it is closed.
        ctx.sendFrame(forceLogoutEvent(connection.user?.userId ?? ctx.principal?.userId, payload));
        break;
      case 'auth_expiring':
        ctx.sendFrame({ event: 'auth_expiring', data: payload });
        return;
      default:
        break;
    }
    const code = closeCodeFor(event, payload);
    if (code !== undefined) ctx.setClose(code, event);
  },

  invalid(ctx: PlainContext, message: string) {
    ctx.sendFrame(errorFrame({ code: 'INVALID_REQUEST', message }));
  },

  refused(ctx: PlainContext, refusal: DomainError) {
    const { code, message, field } = refusal;
    ctx.sendFrame(errorFrame({ code, message, ...(field ? { field } : {}) }));
  },
};
