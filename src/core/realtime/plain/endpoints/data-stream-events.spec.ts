import { describe, expect, it } from 'vitest';
import type { StreamFrame } from '../../realtime.types.js';
import { mapStreamFrame, type OwnAccounts } from './data-stream-events.js';
import { AccountBook } from './data-stream-session.js';

const user = { id: 'u1', channel: 'chan-u1' };
const TIME = '2026-01-02T03:04:05.678Z';
const MS = Date.parse(TIME);

function accounts(entries: [string, string][] = [['ACC-USER-USD-1', 'USD']]): OwnAccounts {
  const book = new AccountBook();
  for (const [number, currency] of entries) book.learn(number, currency);
  return book;
}

const frame = (event: string, channel: string, payload: unknown, seq = 7): StreamFrame => ({
  event,
  channel,
  seq,
  timestamp: TIME,
  payload,
});

const transfer = {
  receipt_code: 'RCP-1',
  transaction_id: 42,
  amount: 10,
  currency: 'USD',
  from_account: 'ACC-USER-USD-1',
  to_account: 'ACC-USER-USD-2',
  fee: 0.2,
  timestamp: 1767323045,
};

const deposit = {
  kind: 'deposit',
  payment_id: 'pay-1',
  request_ref: 'DEP-REQ-1',
  status: 'pending',
  amount: 30.3,
  fee: 0.1,
  currency: 'USD',
  receipt_code: null,
  service: 'mpesa',
};

describe('mapStreamFrame', () => {
  it('makes a transfer the user sent a payment and a settlement, with the sender’s fee', () => {
    const mapped = mapStreamFrame(frame('transfer_completed', user.channel, transfer), user, accounts());
    expect(mapped).toEqual({
      unknownAccount: false,
      routed: [
        {
          keys: ['payments', 'ACC-USER-USD-1'],
          frame: {
            type: 'payment',
            paymentId: 'RCP-1',
            signature: 'RCP-1',
            sender: 'ACC-USER-USD-1',
            recipient: 'ACC-USER-USD-2',
            amount: 10,
            currency: 'USD',
            resource: 'transfer',
            status: 'completed',
            timestamp: MS,
            direction: 'sent',
            metadata: { description: 'transfer to ACC-USER-USD-2', referenceId: '42' },
            seq: 7,
          },
        },
        {
          keys: ['settlements', 'ACC-USER-USD-1'],
          frame: {
            type: 'settlement',
            paymentId: 'RCP-1',
            signature: 'RCP-1',
            status: 'settled',
            finalAmount: 10,
            fees: 0.2,
            currency: 'USD',
            feeCurrency: 'USD',
            timestamp: MS,
            seq: 7,
          },
        },
      ],
    });
  });

  it('makes a transfer the user received a received payment, without fees', () => {
    const mine = accounts([['ACC-USER-USD-2', 'USD']]);
    const { routed } = mapStreamFrame(frame('transfer_completed', user.channel, transfer), user, mine);
    expect(routed.map((r) => r.keys)).toEqual([
      ['payments', 'ACC-USER-USD-2'],
      ['settlements', 'ACC-USER-USD-2'],
    ]);
    expect(routed[0].frame).toMatchObject({ direction: 'received', metadata: { description: /from ACC-USER-USD-1/ } });
    expect(routed[1].frame).toMatchObject({ fees: 0, finalAmount: 10 });
  });

  it('says so when neither side of a transfer is a known account', () => {
    expect(mapStreamFrame(frame('transfer_completed', user.channel, transfer), user, accounts([]))).toEqual({
      routed: [],
      unknownAccount: true,
    });
  });

  it('follows a deposit through its statuses and settles it net of its fee, in decimal', () => {
    const channel = '~payments:u1';
    const pending = mapStreamFrame(frame('payment', channel, deposit), user, accounts());
    expect(pending.routed).toEqual([
      {
        keys: ['payments', 'ACC-USER-USD-1'],
        frame: {
          type: 'payment',
          paymentId: 'pay-1',
          signature: null,
          sender: 'mpesa',
          recipient: 'ACC-USER-USD-1',
          amount: 30.3,
          currency: 'USD',
          resource: 'deposit',
          status: 'pending',
          timestamp: MS,
          direction: 'received',
          metadata: { description: 'deposit via mpesa', referenceId: 'DEP-REQ-1' },
          seq: 7,
        },
      },
    ]);
    const completed = { ...deposit, status: 'completed', receipt_code: 'RCP-9' };
    const done = mapStreamFrame(frame('payment', channel, completed), user, accounts());
    expect(done.routed[1]).toEqual({
      keys: ['settlements', 'ACC-USER-USD-1'],
      frame: {
        type: 'settlement',
        paymentId: 'pay-1',
        signature: 'RCP-9',
        status: 'settled',
        finalAmount: 30.2,
        fees: 0.1,
        currency: 'USD',
        feeCurrency: 'USD',
        timestamp: MS,
        seq: 7,
      },
    });
  });

  it('settles failed, expired and cancelled payments as failed, with nothing moved', () => {
    for (const status of ['failed', 'expired', 'cancelled']) {
      const { routed } = mapStreamFrame(frame('payment', '~payments:u1', { ...deposit, status }), user, accounts());
      expect(routed[1].frame).toMatchObject({ type: 'settlement', status: 'failed', finalAmount: 0, fees: 0 });
    }
    const sent = { ...deposit, status: 'sent_to_partner' };
    expect(mapStreamFrame(frame('payment', '~payments:u1', sent), user, accounts()).routed).toHaveLength(1);
  });

  it('sends a withdrawal from the user’s wallet to its destination, the fee on top', () => {
    const withdrawal = {
      ...deposit,
      kind: 'withdrawal',
      status: 'completed',
      amount: 50,
      fee: 1,
      receipt_code: 'RCP-3',
      destination: '+254712345678',
    };
    const { routed, unknownAccount } = mapStreamFrame(frame('payment', '~payments:u1', withdrawal), user, accounts());
    expect(unknownAccount).toBe(false);
    expect(routed[0].frame).toMatchObject({
      sender: 'ACC-USER-USD-1',
      recipient: '+254712345678',
      direction: 'sent',
      resource: 'withdrawal',
      metadata: { description: 'withdrawal to +254712345678', referenceId: 'DEP-REQ-1' },
    });
    expect(routed[1].frame).toMatchObject({ finalAmount: 50, fees: 1 });
  });

  it('names no account for a payment in a currency without a known wallet, and says so', () => {
    const euro = { ...deposit, currency: 'EUR' };
    const mapped = mapStreamFrame(frame('payment', '~payments:u1', euro), user, accounts());
    expect(mapped.unknownAccount).toBe(true);
    expect(mapped.routed[0]).toMatchObject({ keys: ['payments'], frame: { recipient: null } });
  });

  it('makes each fill of an order a BTC payment of the BTC wallet; a buy receives net of its BTC fee', () => {
    const order = {
      id: 'ord-1',
      pair: 'BTC-EUR',
      side: 'buy',
      fee_currency: 'BTC',
      last_fill: { amount: 0.04, quote_amount: 800.02, fee: 0.00008 },
    };
    const mine = accounts([['ACC-USER-BTC-5', 'BTC']]);
    const { routed } = mapStreamFrame(frame('order', user.channel, order, 12), user, mine);
    expect(routed).toEqual([
      {
        keys: ['payments', 'ACC-USER-BTC-5'],
        frame: {
          type: 'payment',
          paymentId: 'ord-1:12',
          signature: null,
          sender: 'market:BTC-EUR',
          recipient: 'ACC-USER-BTC-5',
          amount: 0.04,
          currency: 'BTC',
          resource: 'trade',
          status: 'completed',
          timestamp: MS,
          direction: 'received',
          metadata: {
            description: 'buy 0.04 BTC on BTC-EUR',
            referenceId: 'ord-1',
            quoteAmount: 800.02,
            quoteCurrency: 'EUR',
            fee: 0.00008,
            feeCurrency: 'BTC',
          },
          seq: 12,
        },
      },
      {
        keys: ['settlements', 'ACC-USER-BTC-5'],
        frame: {
          type: 'settlement',
          paymentId: 'ord-1:12',
          signature: null,
          status: 'settled',
          finalAmount: 0.03992,
          fees: 0.00008,
          currency: 'BTC',
          feeCurrency: 'BTC',
          timestamp: MS,
          seq: 12,
        },
      },
    ]);
    const sale = { ...order, side: 'sell', fee_currency: 'EUR', last_fill: { ...order.last_fill, fee: 1.6 } };
    const sold = mapStreamFrame(frame('order', user.channel, sale), user, mine).routed;
    expect(sold[0].frame).toMatchObject({ sender: 'ACC-USER-BTC-5', recipient: 'market:BTC-EUR', direction: 'sent' });
    expect(sold[1].frame).toMatchObject({ finalAmount: 0.04, fees: 1.6, feeCurrency: 'EUR' });
  });

  it('ignores order events without a fill', () => {
    const placed = { id: 'ord-1', pair: 'BTC-EUR', side: 'buy', fee_currency: 'BTC' };
    expect(mapStreamFrame(frame('order', user.channel, placed), user, accounts()).routed).toEqual([]);
  });

  it('makes a verification attempt a verification frame with its time in "45ms" style', () => {
    const attempt = {
      verified: false,
      method: 'otp_email',
      purpose: 'withdrawal',
      reason: 'VERIFICATION_INVALID',
      verification_ms: 45,
      timestamp: 1767323045678,
    };
    const { routed } = mapStreamFrame(frame('verification', '~verifications:u1', attempt), user, accounts());
    expect(routed).toEqual([
      {
        keys: ['verifications'],
        frame: {
          type: 'verification',
          verified: false,
          verifiedBy: 'otp_email',
          verificationTime: '45ms',
          timestamp: 1767323045678,
          purpose: 'withdrawal',
          reason: 'VERIFICATION_INVALID',
          seq: 7,
        },
      },
    ]);
    const unknownTime = { ...attempt, verified: true, reason: undefined, verification_ms: null };
    const [only] = mapStreamFrame(frame('verification', '~verifications:u1', unknownTime), user, accounts()).routed;
    expect(only.frame).toEqual(expect.objectContaining({ verificationTime: null, verified: true }));
    expect(only.frame).not.toHaveProperty('reason');
  });

  it('reads each source only from the channel it is published on', () => {
    const strays = [
      frame('transfer_completed', 'another-channel', transfer),
      frame('payment', 'pay-1', deposit), // a payment's own channel
      frame('payment', '~payments:u2', deposit),
      frame('verification', '~verifications:u2', {}),
      frame('balance', user.channel, { account_number: 'ACC-USER-USD-1', currency: 'USD' }),
    ];
    for (const stray of strays) expect(mapStreamFrame(stray, user, accounts()).routed).toEqual([]);
  });
});
