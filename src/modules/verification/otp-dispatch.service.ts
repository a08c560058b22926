// The API side of OTP delivery: which channels can be delivered here, the message row (its body
// sealed, written in the caller's transaction) and the `notify.otp` job that names it.
import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../../core/config/app-config.js';
import { sql } from '../../core/database/sql.js';
import { QueueService } from '../../core/queue/queue.service.js';
import { QUEUES } from '../../core/queue/queues.js';
import { Clock } from '../../core/time/clock.js';
import { formatForMessage } from '../../shared/money.js';
import { NotifierRegistry } from './delivery/notifier-registry.js';
import { messageContext, VerificationKeys } from './verification-keys.js';
import { verificationErrors } from './verification.errors.js';
import {
  OTP_TTL_SECONDS,
  type DeliveryChannel,
  type TokenBinding,
  type VerificationPurpose,
} from './verification.types.js';
import { Transactions } from '../../core/database/transactions.js';

export interface OtpMessage {
  challengeId: string;
  userId: string;
  channel: DeliveryChannel;
  address: string;
  code: string;
  purpose: VerificationPurpose;
  binding: TokenBinding;
  now: Date;
}

@Injectable()
export class OtpDispatchService {
  private readonly logger = new Logger(OtpDispatchService.name);

  constructor(
    private readonly transactions: Transactions,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly keys: VerificationKeys,
    private readonly notifiers: NotifierRegistry,
    private readonly queues: QueueService,
  ) {}

  /** Refuses a channel no adapter delivers here (in production without its provider). */
  assertAvailable(channel: DeliveryChannel): void {
    if (!this.notifiers.isAvailable(channel)) throw verificationErrors.deliveryUnavailable(channel);
  }

  /** Writes the message of a new code in `tx`; resolves to its id, to be queued after commit. */
  async write(tx: EntityManager, message: OtpMessage): Promise<string> {
    const { rows } = await sql<{ id: string }>(
      tx,
      `INSERT INTO verification_messages (challenge_id, user_id, channel, recipient, body_enc, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [
        message.challengeId,
        message.userId,
        message.channel,
        message.address,
        this.keys.seal(this.text(message), messageContext(message.challengeId)),
        message.now,
      ],
    );
    return String(rows[0].id);
  }

  /** Queues a committed message for the worker; if that fails, closes its code and refuses. */
  async enqueue(messageId: string, challengeId: string, channel: DeliveryChannel): Promise<void> {
    try {
      await this.queues.enqueue(
        QUEUES.otp,
        { messageId },
        {
          jobId: `otp-${messageId}`,
          attempts: this.config.env.OTP_DELIVERY_ATTEMPTS,
          backoff: { type: 'exponential', delay: this.config.env.OTP_DELIVERY_BACKOFF_MS },
        },
      );
    } catch (error) {
      // Nothing will deliver this code: close it, so the user may ask again at once.
      this.logger.error({ err: error, message_id: messageId }, 'could not queue an OTP message');
      await this.transactions.run(async (tx) => {
        await sql(
          tx,
          `UPDATE verification_messages SET status = 'failed', body_enc = NULL, failed_at = $2, last_error = 'not queued'
            WHERE id = $1 AND status = 'queued'`,
          [messageId, this.clock.now()],
        );
        await sql(
          tx,
          `UPDATE verification_challenges SET status = 'undelivered' WHERE id = $1 AND status = 'pending'`,
          [challengeId],
        );
      });
      throw verificationErrors.deliveryUnavailable(channel);
    }
  }

  /** The message names what the code confirms, so the user sees what they approve. */
  private text({ code, purpose, binding }: OtpMessage): string {
    const currency = binding.currency ? this.config.business.currencies.get(binding.currency) : undefined;
    const what = [
      purpose.replace('_', ' '),
      binding.amount !== undefined && currency ? `of ${formatForMessage(binding.amount, currency)}` : '',
      binding.destination ? `to ${binding.destination}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    return [
      `Your Cashier verification code is ${code}.`,
      `It confirms your ${what} and expires in ${OTP_TTL_SECONDS / 60} minutes.`,
      'Never share this code. If you did not ask for it, change your password.',
    ].join('\n');
  }
}
