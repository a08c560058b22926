// The development mailbox: outside production, OTP messages that no real provider is configured
// for are kept here (in Redis, shared by the worker that writes and the API that reads) and
// listed by GET /api/v1/dev/outbox?to=<address>. Never used when NODE_ENV=production.
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../../core/config/app-config.js';
import { DomainError } from '../../../core/errors/domain-error.js';
import { RedisService } from '../../../core/redis/redis.service.js';
import { Clock } from '../../../core/time/clock.js';
import type { DeliveryChannel } from '../verification.types.js';
import type { Notifier, OutboundMessage } from './notifier.js';

export interface MailboxEntry {
  id: string;
  channel: DeliveryChannel;
  to: string;
  subject: string;
  text: string;
  sent_at: string;
}

const KEEP_PER_ADDRESS = 50;
const KEEP_SECONDS = 24 * 3600;

/** Addresses are compared as written, but e-mail addresses without regard to case. */
const addressKey = (to: string) => to.trim().toLowerCase();

@Injectable()
export class DevMailbox implements Notifier {
  readonly name = 'dev-mailbox';

  constructor(
    private readonly redis: RedisService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async send(message: OutboundMessage): Promise<void> {
    const entry: MailboxEntry = {
      id: message.reference,
      channel: message.channel,
      to: message.to,
      subject: message.subject,
      text: message.text,
      sent_at: this.clock.now().toISOString(),
    };
    const key = this.redis.key('dev-outbox', addressKey(message.to));
    await this.redis.client
      .multi()
      .lpush(key, JSON.stringify(entry))
      .ltrim(key, 0, KEEP_PER_ADDRESS - 1)
      .expire(key, KEEP_SECONDS)
      .exec();
  }

  /** GET /dev/outbox: the messages sent to `to`, newest first; NOT_FOUND in production, where there is no mailbox. */
  async outbox(to: string): Promise<{ to: string; messages: MailboxEntry[] }> {
    if (this.config.env.NODE_ENV === 'production') throw new DomainError('NOT_FOUND', 'not found');
    return { to, messages: await this.list(to) };
  }

  /** Messages sent to `to`, newest first. */
  async list(to: string): Promise<MailboxEntry[]> {
    const raw = await this.redis.client.lrange(this.redis.key('dev-outbox', addressKey(to)), 0, -1);
    return raw.map((item) => JSON.parse(item) as MailboxEntry);
  }
}
