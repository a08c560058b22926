// Every BullMQ queue, named in one place with the payloads of its jobs (ids only: the row in
// PostgreSQL is the truth). The worker refuses to start if one of these has no processor.
export const QUEUES = {
  maintenance: 'maintenance',
  outbox: 'outbox',
  otp: 'notify.otp',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export interface JobPayloads {
  maintenance: { task: 'sessions.purge' | 'idempotency.purge' };
  outbox: { task: 'relay' | 'purge' };
  /** A row of verification_messages to deliver (its body is encrypted there, never in Redis). */
  'notify.otp': { messageId: string };
}

export const QUEUE_NAMES: QueueName[] = Object.values(QUEUES);
