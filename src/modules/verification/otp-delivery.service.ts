// Delivers one queued OTP message through its channel's adapter. Idempotent (BullMQ delivers at
// least once): only a `queued` message is sent, and its body is wiped once it is sent or has
// finally failed. A final failure closes the code and tells the user with a `notice`; the
// message stays listed for admins (GET /api/v1/admin/verification/messages?status=failed, list()).
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { UnrecoverableError } from 'bullmq';
import type { DataSource } from 'typeorm';
import { sql } from '../../core/database/sql.js';
import { Clock } from '../../core/time/clock.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { NotifierRegistry } from './delivery/notifier-registry.js';
import { messageContext, VerificationKeys } from './verification-keys.js';
import type { DeliveryChannel } from './verification.types.js';
import { Transactions } from '../../core/database/transactions.js';

export type DeliveryOutcome = 'sent' | 'skipped';

export interface VerificationMessageView {
  id: number;
  user_id: string;
  channel: DeliveryChannel;
  recipient: string;
  status: string;
  attempts: number;
  provider: string | null;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
  failed_at: string | null;
}

const LIST_LIMIT = 100;

interface MessageRow {
  id: string;
  challenge_id: string;
  user_id: string;
  channel: DeliveryChannel;
  recipient: string;
  body_enc: string | null;
  status: string;
  challenge_status: string;
  expires_at: Date;
}

const CHANNEL_NAMES: Record<DeliveryChannel, string> = { email: 'email', sms: 'SMS', whatsapp: 'WhatsApp' };

export const deliveryFailedNotice = (channel: DeliveryChannel) =>
  `We could not deliver your verification code by ${CHANNEL_NAMES[channel]}. Please request a new code or choose another method.`;

@Injectable()
export class OtpDeliveryService {
  private readonly logger = new Logger(OtpDeliveryService.name);

  constructor(
    private readonly transactions: Transactions,
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly keys: VerificationKeys,
    private readonly notifiers: NotifierRegistry,
    private readonly notifications: NotificationsService,
  ) {}

  /**
   * Sends message `messageId`. `attempt` counts from 1; on the last one (or on an unrecoverable
   * error) a failure is final. Rethrows every failure so the queue retries or records it.
   */
  async deliver(messageId: string, attempt: number, maxAttempts: number): Promise<DeliveryOutcome> {
    const { rows } = await sql<MessageRow>(
      this.db,
      `SELECT m.id, m.challenge_id, m.user_id, m.channel, m.recipient, m.body_enc, m.status, c.status AS challenge_status, c.expires_at
         FROM verification_messages m JOIN verification_challenges c ON c.id = m.challenge_id
        WHERE m.id = $1`,
      [messageId],
    );
    const message = rows[0];
    if (!message || message.status !== 'queued' || message.body_enc === null) return 'skipped';
    if (message.challenge_status !== 'pending' || message.expires_at.getTime() <= this.clock.now().getTime()) {
      // Superseded, used, void or expired by now: the code is worth nothing, so it is not sent.
      await sql(
        this.db,
        `UPDATE verification_messages SET status = 'cancelled', body_enc = NULL WHERE id = $1 AND status = 'queued'`,
        [messageId],
      );
      return 'skipped';
    }

    const notifier = this.notifiers.forChannel(message.channel);
    try {
      if (!notifier) throw new UnrecoverableError(`no adapter delivers ${message.channel} here`);
      await notifier.send({
        reference: message.id,
        channel: message.channel,
        to: message.recipient,
        subject: 'Your Cashier verification code',
        text: this.keys.open(message.body_enc, messageContext(message.challenge_id)),
      });
    } catch (error) {
      const final = error instanceof UnrecoverableError || attempt >= maxAttempts;
      await this.recordFailure(message, error, final);
      throw error;
    }
    await sql(
      this.db,
      `UPDATE verification_messages SET status = 'sent', body_enc = NULL, sent_at = $2, provider = $3, attempts = attempts + 1
        WHERE id = $1 AND status = 'queued'`,
      [messageId, this.clock.now(), notifier.name],
    );
    return 'sent';
  }

  /** The latest messages (of one status when given), for admins; the body is never shown. */
  async list(status?: string): Promise<VerificationMessageView[]> {
    const { rows } = await sql<{
      id: string;
      user_id: string;
      channel: DeliveryChannel;
      recipient: string;
      status: string;
      attempts: number;
      provider: string | null;
      last_error: string | null;
      created_at: Date;
      sent_at: Date | null;
      failed_at: Date | null;
    }>(
      this.db,
      `SELECT id, user_id, channel, recipient, status, attempts, provider, last_error, created_at, sent_at, failed_at
         FROM verification_messages WHERE ($1::text IS NULL OR status = $1) ORDER BY id DESC LIMIT ${LIST_LIMIT}`,
      [status ?? null],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      user_id: String(r.user_id),
      channel: r.channel,
      recipient: r.recipient,
      status: r.status,
      attempts: r.attempts,
      provider: r.provider,
      last_error: r.last_error,
      created_at: r.created_at.toISOString(),
      sent_at: r.sent_at?.toISOString() ?? null,
      failed_at: r.failed_at?.toISOString() ?? null,
    }));
  }

  private async recordFailure(message: MessageRow, error: unknown, final: boolean): Promise<void> {
    // Adapters word their errors without the message body; keep a bounded reason for admins.
    const reason = (error instanceof Error ? error.message : String(error)).slice(0, 500);
    this.logger.warn({ message_id: message.id, channel: message.channel, final, reason }, 'OTP delivery failed');
    if (!final) {
      await sql(
        this.db,
        `UPDATE verification_messages SET attempts = attempts + 1, last_error = $2 WHERE id = $1 AND status = 'queued'`,
        [message.id, reason],
      );
      return;
    }
    await this.transactions.run(async (tx) => {
      const { count } = await sql(
        tx,
        `UPDATE verification_messages
            SET status = 'failed', body_enc = NULL, attempts = attempts + 1, last_error = $2, failed_at = $3
          WHERE id = $1 AND status = 'queued'`,
        [message.id, reason, this.clock.now()],
      );
      if (count === 0) return;
      // The code never arrived: close it, so the user may ask for another at once.
      await sql(tx, `UPDATE verification_challenges SET status = 'undelivered' WHERE id = $1 AND status = 'pending'`, [
        message.challenge_id,
      ]);
      await this.notifications.notify(tx, message.user_id, deliveryFailedNotice(message.channel));
    });
  }
}
