import { describe, expect, it } from 'vitest';
import type { Fill } from './engine/index.js';
import { marketPairs } from './market-pairs.js';
import type { OrderRecord } from './orders.repository.js';
import { tradePosting } from './trade-posting.js';
import { loadBusinessConfig } from '../../core/config/business-config.js';
import { join } from 'node:path';

const pair = marketPairs(loadBusinessConfig(join(process.cwd(), 'config'))).get('BTC-EUR')!;

const order = (id: string, side: 'buy' | 'sell', user: string): OrderRecord => ({
  id,
  userId: user,
  userChannel: `ch-${user}`,
  pair: 'BTC-EUR',
  side,
  type: 'limit',
  price: 2_000_000n,
  amount: 10_000_000n,
  filled: 0n,
  quoteFilled: 0n,
  feePaid: 0n,
  feeCurrency: side === 'buy' ? 'BTC' : 'EUR',
  status: 'open',
  reason: null,
  timeInForce: 'gtc',
  postOnly: false,
  clientOrderId: null,
  sequence: 1n,
  holdReference: `order:${id}`,
  sessionId: null,
  cancelOnDisconnect: false,
  baseAccountId: `${user}-btc`,
  quoteAccountId: `${user}-eur`,
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

const fill = (maker: string, qty: bigint, price: bigint, makerStatus: Fill['makerStatus']): Fill => {
  const quoteAmount = (price * qty) / 100_000_000n;
  return {
    makerOrderId: maker,
    makerOwnerId: 'm',
    takerOrderId: 't',
    takerOwnerId: 't',
    takerSide: 'buy',
    price,
    qty,
    quoteAmount,
    buyerFee: (qty * 2000n + 500_000n) / 1_000_000n,
    sellerFee: (quoteAmount * 1000n + 500_000n) / 1_000_000n,
    makerRemaining: 0n,
    makerStatus,
  };
};

describe('tradePosting', () => {
  it('nets to zero per currency, takes from both holds, and charges each fee in what its side receives', () => {
    const taker = order('t', 'buy', 'alice');
    const makers = new Map([
      ['m1', order('m1', 'sell', 'bob')],
      ['m2', order('m2', 'sell', 'carol')],
    ]);
    const fills = [
      fill('m1', 4_000_000n, 2_000_050n, 'filled'),
      fill('m2', 1_000_000n, 2_000_100n, 'partially_filled'),
    ];
    const trade = tradePosting(pair, taker, fills, (id) => makers.get(id)!, { base: 'fee-btc', quote: 'fee-eur' });

    const net = (currency: 'btc' | 'eur') =>
      trade.request.lines
        .filter((l) => l.accountId.endsWith(currency))
        .reduce((sum, l) => sum + (l.direction === 'CR' ? l.amount : -l.amount), 0n);
    expect(net('btc')).toBe(0n);
    expect(net('eur')).toBe(0n);
    // 0.04 BTC at 20000.50 is 800.02 EUR; 0.01 at 20001.00 is 200.01.
    expect(trade.request.captures).toEqual([
      { reference: 'order:t', amount: 80002n },
      { reference: 'order:m1', amount: 4_000_000n },
      { reference: 'order:t', amount: 20001n },
      { reference: 'order:m2', amount: 1_000_000n },
    ]);
    expect(trade.request.fees).toEqual([
      { feeType: 'FEE_TYPE_TRADING_MAKER', amount: 80n, currency: 'EUR', accountId: 'fee-eur' },
      { feeType: 'FEE_TYPE_TRADING_TAKER', amount: 8000n, currency: 'BTC', accountId: 'fee-btc' },
      { feeType: 'FEE_TYPE_TRADING_MAKER', amount: 20n, currency: 'EUR', accountId: 'fee-eur' },
      { feeType: 'FEE_TYPE_TRADING_TAKER', amount: 2000n, currency: 'BTC', accountId: 'fee-btc' },
    ]);
    expect(taker).toMatchObject({ filled: 5_000_000n, quoteFilled: 100_003n, feePaid: 10_000n });
    expect(makers.get('m1')).toMatchObject({ filled: 4_000_000n, quoteFilled: 80002n, feePaid: 80n, status: 'filled' });
    expect(trade.filled.map((m) => m.id)).toEqual(['m1']);
    expect(trade.makers.map((m) => m.id)).toEqual(['m1', 'm2']);
    expect(trade.drafts).toHaveLength(2);
    expect(trade.request).toMatchObject({ type: 'TRANSACTION_TYPE_TRADE', trading: true });
  });

  it('leaves out lines of nothing (a fill too small to cost a cent)', () => {
    const taker = order('t', 'buy', 'alice');
    const maker = order('m', 'sell', 'bob');
    const dust = fill('m', 1n, 2_000_000n, 'partially_filled');
    const trade = tradePosting(pair, taker, [dust], () => maker, { base: 'fee-btc', quote: 'fee-eur' });
    expect(dust.quoteAmount).toBe(0n);
    expect(trade.request.lines.every((l) => l.amount > 0n)).toBe(true);
    expect(trade.request.captures).toEqual([{ reference: 'order:m', amount: 1n }]);
  });
});
