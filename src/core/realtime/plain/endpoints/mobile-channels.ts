// The logical channels of `/api/v1/ws` (seed 001, contract section 7) and how the user's streams
// map onto them: which channel names a client may subscribe to, what stream each one reads, and
// the seed's envelope `{event, channel, data, seq}` of a stream frame. Pure, so it is tested alone.
import { internalStream, SETTINGS_CHANNEL, type StreamFrame } from '../../realtime.types.js';

export const CHANNELS = {
  settings: SETTINGS_CHANNEL,
  notifications: 'notification.events',
  payments: 'payment_order.events',
  kyc: 'kyc.events',
  forceLogout: 'mobile.force.logout',
} as const;

/** Seed 001's card channels: accepted, and silent (this product issues no cards). */
const CARD_CHANNELS = new Set(['card.events', 'card.create.events', 'card.withdraw.events']);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whose connection it is: the user id as the API shows it, and the user's private channel. */
export interface MobileUser {
  userId: string;
  userChannel: string;
}

/**
 * What subscribing to a channel name means: a logical channel fed by one of the user's streams
 * (`user` is the user channel), a logical channel with no stream behind it (no seq), or a payment
 * or order channel id, which socket.io joins.
 */
export type Subscription =
  { kind: 'stream'; stream: 'settings' | 'user' | 'payments' } | { kind: 'streamless' } | { kind: 'id' };

/** The subscription a channel name stands for, or undefined: no such channel (SUBSCRIPTION_FAILED). */
export function subscriptionOf(channel: string): Subscription | undefined {
  switch (channel) {
    case CHANNELS.settings:
      return { kind: 'stream', stream: 'settings' };
    case CHANNELS.notifications:
    case CHANNELS.kyc:
      return { kind: 'stream', stream: 'user' };
    case CHANNELS.payments:
      return { kind: 'stream', stream: 'payments' };
    case CHANNELS.forceLogout:
      return { kind: 'streamless' };
    default:
      if (CARD_CHANNELS.has(channel)) return { kind: 'streamless' };
      return UUID.test(channel) ? { kind: 'id' } : undefined;
  }
}

/** The stream channel (as `stream` frames name it) that a logical channel reads. */
export function streamChannel(stream: 'settings' | 'user' | 'payments', user: MobileUser): string {
  if (stream === 'settings') return SETTINGS_CHANNEL;
  return stream === 'user' ? user.userChannel : internalStream('payments', user.userId);
}

export interface MobileEvent {
  event: string;
  channel: string;
  data: unknown;
  seq: number;
}

const unixSeconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/**
 * A stream frame as seed 001 shows it, on the logical channel that carries it; undefined for
 * what this endpoint does not show (balances, orders and the rest of the user channel).
 */
export function mobileEventOf(frame: StreamFrame, user: MobileUser): MobileEvent | undefined {
  const { event, channel, seq, payload } = frame;
  if (channel === SETTINGS_CHANNEL) return { event, channel, data: payload, seq };
  if (channel === user.userChannel) {
    if (event === 'notification_update') {
      const { unread_count } = payload as { unread_count: number };
      const data = {
        mobile_user_id: user.userId,
        unread_count,
        event_type: 'NOTIFICATION_UPDATE',
        timestamp: unixSeconds(frame.timestamp),
      };
      return { event: 'NOTIFICATION_UPDATE', channel: CHANNELS.notifications, data, seq };
    }
    if (event === 'state') {
      const { state } = payload as { state: unknown };
      return { event: 'KYC_STATE_UPDATE', channel: CHANNELS.kyc, data: { mobile_user_id: user.userId, state }, seq };
    }
    return undefined;
  }
  if (channel === internalStream('payments', user.userId)) {
    return event === 'payment'
      ? { event: 'PAYMENT_ORDER_UPDATE', channel: CHANNELS.payments, data: payload, seq }
      : undefined;
  }
  return UUID.test(channel) ? { event, channel, data: payload, seq } : undefined;
}

/** Seed 001's forced logout, from socket.io's `force_logout {reason, detail?}`; a control message, so no seq. */
export function forceLogoutEvent(userId: string | undefined, payload: unknown): Omit<MobileEvent, 'seq'> {
  const { reason, detail } = (payload ?? {}) as { reason?: string; detail?: string };
  return {
    event: 'MOBILE_USER_FORCE_LOGOUT_EVENT',
    channel: CHANNELS.forceLogout,
    data: { mobile_user_id: userId ?? null, is_force_logout: true, reason, ...(detail ? { detail } : {}) },
  };
}
