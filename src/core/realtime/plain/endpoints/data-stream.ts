// `/api/data` (seed 003, contract section 7): a client connects without credentials and sends
// `{method:"authenticate", apiKey}` within 10 s (else 4008); then `subscribe` / `unsubscribe` keys
// (`payments`, `verifications`, `settlements`, or one of the user's account numbers) and `ping`.
// Pushed: `payment`, `verification` and `settlement` frames (data-stream-events.ts) for the keys
// subscribed. Timestamps are Unix milliseconds. The connection joins the /user namespace once the
// API key is given: the handshake checks the key and the plan's connection limit, and the
// connection reads the user channel and the user's internal streams.
//
// Choices the seed leaves open:
// - frames are answered strictly in order, so a `subscribe` sent right behind `authenticate` (as
//   the seed's Layerx402WebSocket does) waits for the authentication;
// - `subscribe` / `unsubscribe` before authenticating: AUTHENTICATION_FAILED "authenticate first"
//   (not counted as a bad try); a second `authenticate` after success: INVALID_REQUEST;
// - a refused key, or an `authenticate` without one, is a bad try; the third closes with 4001;
// - malformed `keys`: VALIDATION_FAILED (field `keys`); a subscription is all or nothing.
import { Logger } from '@nestjs/common';
import type { DomainError } from '../../../errors/domain-error.js';
import type { StreamFrame } from '../../realtime.types.js';
import { CLOSE, closeCodeFor, type EndpointProtocol, type PlainContext, type RateVerdict } from '../plain-protocol.js';
import { mapStreamFrame, STREAM_KEYS } from './data-stream-events.js';
import { DataSession } from './data-stream-session.js';

const logger = new Logger('PlainDataStream');

const MAX_BAD_TRIES = 3;
const MAX_KEYS = 32;
const MAX_KEY_LENGTH = 64;
/** A user wallet's number, as modules/accounts opens them: `ACC-USER-USD-42`. */
const ACCOUNT_NUMBER = /^ACC-USER-[A-Z0-9]{2,12}-\d{1,20}$/;
const KEYS_SHAPE = `keys must be a non-empty array of at most ${MAX_KEYS} strings of 1 to ${MAX_KEY_LENGTH} characters`;

const errorFrame = (code: string, message: string, extra: Record<string, unknown> = {}) => ({
  type: 'error',
  code,
  message,
  ...extra,
  timestamp: Date.now(),
});

const logFailure = (error: unknown) => logger.error({ err: error }, 'an /api/data frame failed');

const rateRefusal = (verdict: Exclude<RateVerdict, { ok: true }>) =>
  errorFrame(verdict.code, verdict.message, { retry_after: verdict.retry_after });

function sessionOf(ctx: PlainContext): DataSession {
  let session = ctx.state.get('data') as DataSession | undefined;
  if (!session) {
    session = new DataSession(() => ctx.end(CLOSE.noAuthentication, 'no authentication in time'));
    ctx.state.set('data', session);
  }
  return session;
}

/**
 * Answers a frame in its turn: its rate is counted as it arrives (so a burst is counted in one
 * round trip), its answer waits for those of the frames before it.
 */
function inTurn(ctx: PlainContext, answer: (session: DataSession) => void | Promise<void>): Promise<void> {
  const session = sessionOf(ctx);
  const verdict = ctx.checkRate();
  return session.frames.run(async () => {
    const rate = await verdict;
    if (!rate.ok) return ctx.sendFrame(rateRefusal(rate));
    await answer(session);
  });
}

export const dataStreamEndpoint: EndpointProtocol = {
  path: '/api/data',

  credentials: () => 'in-band',

  streams: () => [{ name: 'payments' }, { name: 'verifications' }],

  onOpen(ctx: PlainContext) {
    sessionOf(ctx); // starts the deadline to authenticate
  },

  onFrame(ctx: PlainContext, frame: Record<string, unknown>) {
    return inTurn(ctx, (session) => {
      switch (frame.method) {
        case 'authenticate':
          return authenticate(ctx, session, frame.apiKey);
        case 'subscribe':
          return subscribe(ctx, session, frame.keys);
        case 'unsubscribe':
          return unsubscribe(ctx, session, frame.keys);
        case 'ping':
          return ctx.sendFrame({ type: 'pong', timestamp: Date.now() });
        default:
          return ctx.sendFrame(
            errorFrame(
              'INVALID_REQUEST',
              `unknown method ${typeof frame.method === 'string' ? JSON.stringify(frame.method.slice(0, 64)) : '(none)'}: expected authenticate, subscribe, unsubscribe or ping`,
            ),
          );
      }
    });
  },

  onEvent(ctx: PlainContext, event: string, payload: unknown) {
    const session = sessionOf(ctx);
    switch (event) {
      case 'stream':
        session.events
          .run(() => deliver(ctx, session, payload as StreamFrame))
          .catch((error: unknown) => logger.error({ err: error }, 'could not deliver an event on /api/data'));
        return;
      case 'connected':
        session.connectedArrived();
        return;
      case 'force_logout': {
        const { reason, detail } = (payload ?? {}) as { reason?: string; detail?: string };
        const message = logoutMessage(reason, detail);
        ctx.sendFrame(errorFrame('AUTHENTICATION_FAILED', message, { reason }));
        ctx.end(closeCodeFor(event, payload) ?? CLOSE.forcedLogout, message);
        return;
      }
      case 'request_reconnect':
        ctx.end(CLOSE.restart, 'server restart: reconnect');
        return;
      default:
        // auth_expiring (API keys do not expire), response (every request here has an ack).
        return;
    }
  },

  invalid(ctx: PlainContext, message: string) {
    inTurn(ctx, () => ctx.sendFrame(errorFrame('INVALID_REQUEST', message))).catch(logFailure);
  },

  refused(ctx: PlainContext, refusal: DomainError) {
    const field = refusal.field ? { field: refusal.field } : {};
    inTurn(ctx, () => ctx.sendFrame(errorFrame(refusal.code, refusal.message, field))).catch(logFailure);
  },
};

/**
 * Why the server ended the connection (realtime-connections.service.ts): a revoked key's
 * connections get `revoked` with the revocation's own reason as `detail`; an administrator's
 * forced logout gets `revoked` alone.
 */
function logoutMessage(reason: string | undefined, detail: string | undefined): string {
  if (reason === 'revoked') return detail === undefined ? 'logged out by an administrator' : 'the API key was revoked';
  return `logged out (${reason ?? 'no reason given'})`;
}

async function authenticate(ctx: PlainContext, session: DataSession, apiKey: unknown): Promise<void> {
  if (session.user) {
    return ctx.sendFrame(errorFrame('INVALID_REQUEST', 'already authenticated: a connection authenticates once'));
  }
  if (typeof apiKey !== 'string' || apiKey.length === 0) {
    return badTry(ctx, session, 'apiKey is required: {"method":"authenticate","apiKey":"..."}');
  }
  const connected = session.expectConnected();
  const outcome = await ctx.connect({ apiKey });
  if (!outcome.ok) {
    const { code, message } = outcome.data;
    if (code === 'UNAUTHORIZED') return badTry(ctx, session, 'invalid API key');
    ctx.sendFrame(errorFrame(code, message));
    if (code === 'CONNECTION_LIMIT') ctx.end(CLOSE.rateLimited, 'connection limit reached');
    return; // a dependency down or the server draining: the client may try again
  }
  const principal = ctx.principal;
  if (!(await connected) || !principal) {
    ctx.sendFrame(errorFrame('INTERNAL', 'internal error: the connection could not be set up'));
    return ctx.end(CLOSE.internal, 'internal error');
  }
  session.authenticated({ id: principal.userId, channel: principal.channel, plan: principal.plan });
  await session.refreshAccounts(ctx);
  ctx.sendFrame({ type: 'authenticated', userId: principal.userId, plan: principal.plan, timestamp: Date.now() });
}

function badTry(ctx: PlainContext, session: DataSession, message: string): void {
  session.badTries += 1;
  ctx.sendFrame(errorFrame('AUTHENTICATION_FAILED', message));
  if (session.badTries >= MAX_BAD_TRIES) ctx.end(CLOSE.unauthorized, `authentication failed ${MAX_BAD_TRIES} times`);
}

const notAuthenticated = () =>
  errorFrame('AUTHENTICATION_FAILED', 'authenticate first: {"method":"authenticate","apiKey":"..."}');

async function subscribe(ctx: PlainContext, session: DataSession, raw: unknown): Promise<void> {
  if (!session.user) return ctx.sendFrame(notAuthenticated());
  const keys = keysOf(raw);
  if (typeof keys === 'string') return ctx.sendFrame(errorFrame('VALIDATION_FAILED', keys, { field: 'keys' }));
  const isKnown = (key: string) => (STREAM_KEYS as readonly string[]).includes(key) || session.accounts.has(key);
  let unknown = keys.filter((key) => !isKnown(key));
  // An account opened since the accounts were read: read them again, once, before refusing.
  if (unknown.some((key) => ACCOUNT_NUMBER.test(key))) {
    await session.refreshAccounts(ctx);
    unknown = keys.filter((key) => !isKnown(key));
  }
  if (unknown.length > 0) {
    return ctx.sendFrame(
      errorFrame(
        'SUBSCRIPTION_FAILED',
        `invalid subscription key ${JSON.stringify(unknown[0])}: keys are payments, verifications, settlements or one of your account numbers`,
      ),
    );
  }
  for (const key of keys) session.subscriptions.add(key);
  ctx.sendFrame({ type: 'subscribed', keys, timestamp: Date.now() });
}

function unsubscribe(ctx: PlainContext, session: DataSession, raw: unknown): void {
  if (!session.user) return ctx.sendFrame(notAuthenticated());
  const keys = keysOf(raw);
  if (typeof keys === 'string') return ctx.sendFrame(errorFrame('VALIDATION_FAILED', keys, { field: 'keys' }));
  for (const key of keys) session.subscriptions.delete(key);
  ctx.sendFrame({ type: 'unsubscribed', keys, timestamp: Date.now() });
}

/** The keys of a subscribe or unsubscribe, each once, or why they are malformed. */
function keysOf(raw: unknown): string[] | string {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_KEYS) return KEYS_SHAPE;
  if (!raw.every((key) => typeof key === 'string' && key.length > 0 && key.length <= MAX_KEY_LENGTH)) {
    return KEYS_SHAPE;
  }
  return [...new Set(raw as string[])];
}

/** An event of the /user connection: learnt from (balances), mapped, sent once if subscribed. */
async function deliver(ctx: PlainContext, session: DataSession, frame: StreamFrame): Promise<void> {
  if (frame.event === 'balance' && frame.channel === ctx.principal?.channel) {
    const { account_number, currency } = frame.payload as { account_number: string; currency: string };
    session.accounts.learn(account_number, currency);
    return;
  }
  const user = session.user;
  if (!user || session.subscriptions.size === 0) return;
  let mapped = mapStreamFrame(frame, user, session.accounts);
  if (mapped.unknownAccount) {
    await session.refreshAccounts(ctx);
    mapped = mapStreamFrame(frame, user, session.accounts);
  }
  for (const { keys, frame: out } of mapped.routed) {
    if (keys.some((key) => session.subscriptions.has(key))) ctx.sendFrame(out);
  }
}
