// The wire types, from the server's own sources (src/realtime-contract.ts), never copied: a request
// body, a reply or an event payload changed on the server fails this package's type check. The
// import is type-only except for two lists of names, so the bundle carries nothing else of the
// server. The shapes below only adapt those types to what a client sends and receives.
import type {
  ControlEventMap,
  ErrorCode,
  RealtimeEvent,
  RealtimeEventMap,
  UserReplyData,
  UserRequestBody,
  UserRequestType,
} from '../../src/realtime-contract.js';

export { IDEMPOTENT_REQUEST_TYPES, USER_REQUEST_TYPES } from '../../src/realtime-contract.js';
export type * from '../../src/realtime-contract.js';

/** An amount or a price as sent: a JSON number or a decimal string ("10.50"), exact either way. */
export type DecimalInput = number | string;

/**
 * A request DTO as a client writes it: plain data, where the fields the server declares `unknown`
 * (it reads them itself, exactly, with the currency's decimals: amounts and prices) take a number
 * or a decimal string.
 */
export type WireBody<Dto> = { [P in keyof Dto]: unknown extends Dto[P] ? DecimalInput : Dto[P] };

/** The body of request `K` as sent (`undefined` for a request without one). */
export type RequestBody<K extends UserRequestType> = [UserRequestBody<K>] extends [void]
  ? undefined
  : WireBody<UserRequestBody<K>>;

/** The `data` of request `K`'s success reply. */
export type Reply<K extends UserRequestType> = UserReplyData<K>;

/** `transfer` → `transfer`, `get_account_balance` → `getAccountBalance`. */
export type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** A `stream` frame of a known event, its payload typed by the event. */
export type EventFrame<E extends RealtimeEvent = RealtimeEvent> = {
  [N in E]: { event: N; channel: string; seq: number; timestamp: string; payload: RealtimeEventMap[N] };
}[E];

/**
 * Any `stream` frame. Channels also carry events outside RealtimeEventMap (`settings` changes such
 * as `withdrawal_settings_updated`, an administrator's test notification), so the payload of an
 * unknown event is `unknown`.
 */
export type AnyFrame =
  EventFrame | { event: string; channel: string; seq: number; timestamp: string; payload: unknown };

export type Connected = ControlEventMap['connected'];
export type ForceLogout = ControlEventMap['force_logout'];

/** The error codes of the contract (section 8), and those the client itself gives. */
export type CashierErrorCode = ErrorCode | ClientErrorCode;

/**
 * Raised by the client, not the server: `TIMEOUT` (no reply in time), `CONNECTION_LOST` (the
 * connection dropped with a request in flight that is not safe to repeat: its outcome is unknown),
 * `CLOSED` (the client was closed or logged out).
 */
export type ClientErrorCode = 'TIMEOUT' | 'CONNECTION_LOST' | 'CLOSED';
