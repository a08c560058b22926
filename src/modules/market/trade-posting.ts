// The journal of a taker's fills (one per taker, whatever the number of fills): per fill, the
// buyer's held quote pays the seller (less the seller's fee), the seller's held BTC goes to the
// buyer (less the buyer's fee), both fees to fee revenue; per currency each fill nets to zero. It
// also moves the orders' filled, cost and fee figures and tells which makers the fills completed.
import type { FeeLine, PostingLine, PostingRequest } from '../ledger/ledger.types.js';
import type { Fill } from './engine/index.js';
import { btc, quoteMajor, type MarketPair } from './market-pairs.js';
import type { OrderRecord, TradeRecord } from './orders.repository.js';

export interface TradePosting {
  request: PostingRequest;
  /** The trades' rows, but for the journal id the ledger gives them. */
  drafts: Omit<TradeRecord, 'journalId'>[];
  /** Makers the fills completed (their holds' rest is released once the journal took its part). */
  filled: OrderRecord[];
  /** Every maker the fills changed, in fill order. */
  makers: OrderRecord[];
}

export function tradePosting(
  pair: MarketPair,
  taker: OrderRecord,
  fills: readonly Fill[],
  makerOf: (orderId: string) => OrderRecord,
  fee: { base: string; quote: string },
): TradePosting {
  const lines: PostingLine[] = [];
  const fees: FeeLine[] = [];
  const captures: { reference: string; amount: bigint }[] = [];
  const line = (accountId: string, direction: 'DR' | 'CR', amount: bigint, description: string) => {
    if (amount > 0n) lines.push({ accountId, direction, amount, description });
  };
  const feeLine = (feeType: string, amount: bigint, currency: string, accountId: string) => {
    if (amount > 0n) fees.push({ feeType, amount, currency, accountId });
  };
  const drafts: Omit<TradeRecord, 'journalId'>[] = [];
  const filled: OrderRecord[] = [];
  const makers: OrderRecord[] = [];
  for (const fill of fills) {
    const maker = makerOf(fill.makerOrderId);
    const [buyer, seller] = fill.takerSide === 'buy' ? [taker, maker] : [maker, taker];
    const what = `${pair.symbol} trade ${btc(fill.qty)} ${pair.base} at ${quoteMajor(fill.price, pair)} ${pair.quote}`;
    line(buyer.quoteAccountId, 'DR', fill.quoteAmount, what);
    line(seller.quoteAccountId, 'CR', fill.quoteAmount - fill.sellerFee, what);
    line(fee.quote, 'CR', fill.sellerFee, `${what}: seller's fee`);
    line(seller.baseAccountId, 'DR', fill.qty, what);
    line(buyer.baseAccountId, 'CR', fill.qty - fill.buyerFee, what);
    line(fee.base, 'CR', fill.buyerFee, `${what}: buyer's fee`);
    if (fill.quoteAmount > 0n) captures.push({ reference: buyer.holdReference!, amount: fill.quoteAmount });
    captures.push({ reference: seller.holdReference!, amount: fill.qty });
    const makerBuys = buyer === maker;
    feeLine(makerBuys ? 'FEE_TYPE_TRADING_TAKER' : 'FEE_TYPE_TRADING_MAKER', fill.sellerFee, pair.quote, fee.quote);
    feeLine(makerBuys ? 'FEE_TYPE_TRADING_MAKER' : 'FEE_TYPE_TRADING_TAKER', fill.buyerFee, pair.base, fee.base);
    for (const order of [buyer, seller]) {
      order.filled += fill.qty;
      order.quoteFilled += fill.quoteAmount;
      order.feePaid += order === buyer ? fill.buyerFee : fill.sellerFee;
    }
    maker.status = fill.makerStatus;
    if (maker.status === 'filled') filled.push(maker);
    makers.push(maker);
    drafts.push({
      pair: pair.symbol,
      price: fill.price,
      amount: fill.qty,
      quoteAmount: fill.quoteAmount,
      takerSide: fill.takerSide,
      makerOrderId: maker.id,
      takerOrderId: taker.id,
      makerUserId: maker.userId,
      takerUserId: taker.userId,
      buyerFee: fill.buyerFee,
      sellerFee: fill.sellerFee,
    });
  }
  const request: PostingRequest = {
    type: 'TRANSACTION_TYPE_TRADE',
    description: `${pair.symbol} ${taker.side} order ${taker.id}`,
    lines,
    fees,
    captures,
    initiatedBy: taker.userId,
    metadata: { pair: pair.symbol, order_id: taker.id },
    trading: true,
  };
  return { request, drafts, filled, makers };
}
