// The socket.io contract in one import, for the typed client (client/). It brings every module's
// declarations of UserRequestMap (requests) and RealtimeEventMap (events) into the program that
// imports it, and re-exports the types a client sees (none of the classes behind them, so the
// client's declaration bundle holds only wire types). Only the two lists below are values; the
// client bundles them (everything else is `import type`, erased), so nothing of the server runs in
// a browser. The server does not import this file.
import type { IdempotentRequestType, UserRequestType } from './core/realtime/user-requests.js';

// The declarations of UserRequestMap: each gateway declares the requests it answers.
export type { ChannelAck, ChannelsRequests } from './core/realtime/realtime.gateways.js';
export type {
  AccountBalanceReply,
  AccountsReply,
  AccountsRequests,
  OwnerSummaryReply,
  WalletView,
} from './modules/accounts/accounts.gateway.js';
export type { FeeQuoteReply, FeesRequests } from './modules/fees/fees.gateway.js';
export type { StatementsRequests } from './modules/ledger/statements.gateway.js';
export type { MarketRequests } from './modules/market/market.gateway.js';
export type { NotificationsRequests } from './modules/notifications/notifications.gateway.js';
export type { PartnersRequests } from './modules/partners/partners.gateway.js';
export type { PaymentsRequests } from './modules/payments/payments.gateway.js';
export type { TransfersRequests } from './modules/transfers/transfers.gateway.js';
export type { VerificationRequests } from './modules/verification/verification.gateway.js';

// The declarations of RealtimeEventMap (the payloads of `stream` frames):
export type {
  BalancePayload,
  TransactionCompletedPayload,
  TransactionFailedPayload,
  TransferCompletedPayload,
} from './modules/ledger/ledger.events.js';
export type {
  DepthSnapshotPayload,
  DepthUpdatePayload,
  NewTradePayload,
  OrderView,
  TickPayload,
} from './modules/market/market.events.js';
export type { NoticePayload, NotificationUpdatePayload } from './modules/notifications/notifications.events.js';
export type {
  DepositCompletedPayload,
  DepositFailedPayload,
  WithdrawalCompletedPayload,
  WithdrawalFailedPayload,
} from './modules/payments/payments.events.js';
export type { DepositView, WithdrawalView } from './modules/payments/payment-views.js';
export type { VerificationPayload } from './modules/verification/verification.events.js';

export type { ErrorCode } from './core/errors/error-codes.js';
export type { ControlEventMap, RealtimeEvent, RealtimeEventMap, StreamFrame } from './core/realtime/realtime.types.js';
export type {
  IdempotentRequestType,
  UserReplyData,
  UserRequestBody,
  UserRequestMap,
  UserRequestType,
} from './core/realtime/user-requests.js';
export type { ErrorEnvelope, SuccessEnvelope } from './core/realtime/ws-envelope.js';
export type { TokenPair } from './modules/auth/auth.service.js';
export type { UserView } from './modules/users/user.entity.js';

/**
 * Every request type of `/user`, at run time (the client makes a method of each). The compiler
 * holds this list and UserRequestMap to the same keys, both ways, in every program that imports
 * this file (so a gateway left out above fails the client's type check too).
 */
export const USER_REQUEST_TYPES = [
  'verification_request',
  'verify_otp',
  'verify_totp',
  'get_partners',
  'get_accounts',
  'get_account_balance',
  'get_owner_summary',
  'deposit_request',
  'get_deposit_status',
  'cancel_deposit',
  'withdraw_request',
  'transfer',
  'convert_and_transfer',
  'get_history',
  'get_transaction_by_receipt',
  'get_account_statement',
  'get_owner_statement',
  'get_ledgers',
  'calculate_fee',
  'get_notifications',
  'mark_notifications_read',
  'place_order',
  'cancel_order',
  'cancel_all_orders',
  'get_orders',
  'get_trades',
  'refresh',
] as const satisfies readonly UserRequestType[];

/** The requests that take `idempotency_key` (money-moving: the client gives each one a key). */
export const IDEMPOTENT_REQUEST_TYPES = [
  'deposit_request',
  'withdraw_request',
  'transfer',
  'convert_and_transfer',
  'place_order',
] as const satisfies readonly IdempotentRequestType[];

/** Compiles only when every member of All is in Listed (the error names the missing ones). */
type ExpectListed<Listed, All, Missing extends Exclude<All, Listed> = Exclude<All, Listed>> = [Missing] extends [never]
  ? true
  : { missing_from_the_list: Missing };
type Expect<T extends true> = T;
// A request declared in UserRequestMap (or taking an idempotency key) but missing from a list above
// fails these.
export type AllRequestsListed = Expect<ExpectListed<(typeof USER_REQUEST_TYPES)[number], UserRequestType>>;
export type AllIdempotentListed = Expect<
  ExpectListed<(typeof IDEMPOTENT_REQUEST_TYPES)[number], IdempotentRequestType>
>;
