// The vocabulary of accounts. The ledger posts to accounts and speaks of their kinds, so it
// imports this; accounts import nothing of the ledger.

export type AccountKind =
  'user_wallet' | 'fee_revenue' | 'partner_settlement' | 'agent' | 'fx_liquidity' | 'trading_escrow' | 'adjustments';
