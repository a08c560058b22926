// Every BullMQ queue, named in one place with the payloads of its jobs (ids only: the row in
// PostgreSQL is the truth). The worker refuses to start if one of these has no processor.
export const QUEUES = {
  maintenance: 'maintenance',
  outbox: 'outbox',
  otp: 'notify.otp',
  deposit: 'partner.deposit',
  payout: 'partner.payout',
  depositExpiry: 'deposit.expiry',
  market: 'market',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export interface JobPayloads {
  maintenance: { task: 'sessions.purge' | 'idempotency.purge' };
  outbox: { task: 'relay' | 'purge' };
  /** A row of verification_messages to deliver (its body is encrypted there, never in Redis). */
  'notify.otp': { messageId: string };
  /** A deposit to send to its partner; or `resend`: enqueue again the deposits whose job was lost. */
  'partner.deposit': { depositId: string } | { task: 'resend' };
  /** A withdrawal to send to its partner, or to settle with its agent; or `resend`, as for deposits. */
  'partner.payout': { withdrawalId: string } | { task: 'resend' };
  /** Fails the deposits past expires_at. */
  'deposit.expiry': { task: 'sweep' };
  /** Every pair's tick (at least every 10 s); the dead man's switch of cancel_on_disconnect orders. */
  market: { task: 'tick' | 'disconnects' };
}

export const QUEUE_NAMES: QueueName[] = Object.values(QUEUES);
