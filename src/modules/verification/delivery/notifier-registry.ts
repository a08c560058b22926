// Which adapter delivers each channel: the configured provider, else (never in production) the
// development mailbox, else none (the channel is unavailable and requests for it are refused).
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../../core/config/app-config.js';
import type { DeliveryChannel } from '../verification.types.js';
import { DevMailbox } from './dev-mailbox.js';
import { HttpSmsNotifier } from './http-sms.notifier.js';
import type { Notifier } from './notifier.js';
import { SmtpNotifier } from './smtp.notifier.js';

@Injectable()
export class NotifierRegistry implements OnApplicationShutdown {
  private readonly byChannel: Record<DeliveryChannel, Notifier | null>;
  private readonly smtp?: SmtpNotifier;

  constructor(config: AppConfig, mailbox: DevMailbox) {
    const { env } = config;
    const fallback = env.NODE_ENV === 'production' ? null : mailbox;
    this.smtp = env.SMTP_URL ? new SmtpNotifier(env.SMTP_URL, env.SMTP_FROM) : undefined;
    const phone = env.SMS_PROVIDER_URL ? new HttpSmsNotifier(env.SMS_PROVIDER_URL, env.SMS_PROVIDER_TOKEN) : fallback;
    this.byChannel = { email: this.smtp ?? fallback, sms: phone, whatsapp: phone };
  }

  forChannel(channel: DeliveryChannel): Notifier | null {
    return this.byChannel[channel];
  }

  isAvailable(channel: DeliveryChannel): boolean {
    return this.byChannel[channel] !== null;
  }

  onApplicationShutdown(): void {
    this.smtp?.close();
  }
}
