import { describe, expect, it } from 'vitest';
import { forceLogoutEvent, mobileEventOf, streamChannel, subscriptionOf } from './mobile-channels.js';

const user = { userId: '42', userChannel: 'a'.repeat(32) };
const PAYMENT = '0b0e7c1a-3f4d-4c2b-9a51-2f0e8d6c7b10';
const frame = (channel: string, event: string, payload: unknown, seq = 7) => ({
  channel,
  event,
  payload,
  seq,
  timestamp: '2026-02-28T13:20:00.000Z',
});

describe('subscriptionOf', () => {
  it.each([
    ['settings', { kind: 'stream', stream: 'settings' }],
    ['notification.events', { kind: 'stream', stream: 'user' }],
    ['kyc.events', { kind: 'stream', stream: 'user' }],
    ['payment_order.events', { kind: 'stream', stream: 'payments' }],
    ['mobile.force.logout', { kind: 'streamless' }],
    ['card.events', { kind: 'streamless' }],
    ['card.create.events', { kind: 'streamless' }],
    ['card.withdraw.events', { kind: 'streamless' }],
    [PAYMENT, { kind: 'id' }],
  ])('%s', (channel, expected) => {
    expect(subscriptionOf(channel)).toEqual(expected);
  });

  it.each(['', 'unknown', 'card', 'a'.repeat(32), PAYMENT.toUpperCase(), `${PAYMENT}x`, '~payments:42', '__proto__'])(
    'knows no channel %j',
    (channel) => {
      expect(subscriptionOf(channel)).toBeUndefined();
    },
  );
});

describe('streamChannel', () => {
  it('names the stream each logical channel reads', () => {
    expect(streamChannel('settings', user)).toBe('settings');
    expect(streamChannel('user', user)).toBe(user.userChannel);
    expect(streamChannel('payments', user)).toBe('~payments:42');
  });
});

describe('mobileEventOf', () => {
  it('shows settings changes as published', () => {
    const payload = { type: 'withdrawal_settings_updated', withdrawal_fee_rate: '1.50' };
    expect(mobileEventOf(frame('settings', 'withdrawal_settings_updated', payload), user)).toEqual({
      event: 'withdrawal_settings_updated',
      channel: 'settings',
      data: payload,
      seq: 7,
    });
  });

  it('turns notification_update into NOTIFICATION_UPDATE with the commit time in Unix seconds', () => {
    expect(mobileEventOf(frame(user.userChannel, 'notification_update', { unread_count: 3 }), user)).toEqual({
      event: 'NOTIFICATION_UPDATE',
      channel: 'notification.events',
      data: { mobile_user_id: '42', unread_count: 3, event_type: 'NOTIFICATION_UPDATE', timestamp: 1772284800 },
      seq: 7,
    });
  });

  it('turns state into KYC_STATE_UPDATE', () => {
    expect(mobileEventOf(frame(user.userChannel, 'state', { state: 'verified' }), user)).toEqual({
      event: 'KYC_STATE_UPDATE',
      channel: 'kyc.events',
      data: { mobile_user_id: '42', state: 'verified' },
      seq: 7,
    });
  });

  it('turns the payments stream into PAYMENT_ORDER_UPDATE with the serialized payment', () => {
    const payment = { payment_id: PAYMENT, status: 'completed', kind: 'deposit' };
    expect(mobileEventOf(frame('~payments:42', 'payment', payment, 3), user)).toEqual({
      event: 'PAYMENT_ORDER_UPDATE',
      channel: 'payment_order.events',
      data: payment,
      seq: 3,
    });
  });

  it('forwards a payment or order channel’s frames as they are', () => {
    expect(mobileEventOf(frame(PAYMENT, 'payment', { status: 'pending' }, 1), user)).toEqual({
      event: 'payment',
      channel: PAYMENT,
      data: { status: 'pending' },
      seq: 1,
    });
  });

  it('shows nothing else: other user-channel events, another user’s stream, unknown channels', () => {
    expect(mobileEventOf(frame(user.userChannel, 'balance', { balance: 1 }), user)).toBeUndefined();
    expect(mobileEventOf(frame('~payments:43', 'payment', {}), user)).toBeUndefined();
    expect(mobileEventOf(frame('~payments:42', 'other', {}), user)).toBeUndefined();
    expect(mobileEventOf(frame('~verifications:42', 'verification', {}), user)).toBeUndefined();
    expect(mobileEventOf(frame('b'.repeat(32), 'notification_update', { unread_count: 1 }), user)).toBeUndefined();
  });
});

describe('forceLogoutEvent', () => {
  it('says who and why, with socket.io’s detail when there is one', () => {
    expect(forceLogoutEvent('42', { reason: 'replaced' })).toEqual({
      event: 'MOBILE_USER_FORCE_LOGOUT_EVENT',
      channel: 'mobile.force.logout',
      data: { mobile_user_id: '42', is_force_logout: true, reason: 'replaced' },
    });
    expect(forceLogoutEvent('42', { reason: 'revoked', detail: 'logout' }).data).toEqual({
      mobile_user_id: '42',
      is_force_logout: true,
      reason: 'revoked',
      detail: 'logout',
    });
  });
});
