// @cashier/client: the typed client of cashier's socket.io API (see README, "Typed client").
export { CashierClient, SOCKET_PATH } from './cashier-client.js';
export type {
  CashierClientOptions,
  ClientEvents,
  Positions,
  RequestMethods,
  RequestOptions,
  ResetInfo,
} from './cashier-client.js';
export { ChannelSequence } from './channel-sequence.js';
export type * from './contract.js';
export { IDEMPOTENT_REQUEST_TYPES, USER_REQUEST_TYPES } from './contract.js';
export { crc32 } from './crc32.js';
export { CashierError, isCashierError } from './errors.js';
export { newIdempotencyKey } from './idempotency.js';
export { LiveState, SnapshotAligner } from './live-state.js';
export type { LiveStateOptions } from './live-state.js';
export { MarketFeed } from './market-feed.js';
export type { BookState, MarketEvents, MarketFeedOptions, PairInfo, ResyncReason } from './market-feed.js';
export { bookChecksum, checksumDigits, CHECKSUM_LEVELS, OrderBook } from './order-book.js';
export type { Level } from './order-book.js';
export { logIn, logOut, refreshTokens, sessionTokens, signUp } from './auth.js';
export type { Login } from './auth.js';
