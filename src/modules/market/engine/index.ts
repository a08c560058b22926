// The matching engine's public surface: one OrderBook per pair, its rules and the book checksum.
export { bookChecksum, CHECKSUM_LEVELS, decimalBookChecksum } from './checksum.js';
export { OrderBook } from './order-book.js';
export { assertPairRules, buyLock, feeOf, quoteOf, SATS_PER_BTC, validateOrder } from './rules.js';
export type * from './types.js';
