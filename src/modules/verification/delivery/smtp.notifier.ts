// E-mail through SMTP (nodemailer), used when SMTP_URL is set.
import { UnrecoverableError } from 'bullmq';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Notifier, OutboundMessage } from './notifier.js';

export class SmtpNotifier implements Notifier {
  readonly name = 'smtp';
  private readonly transport: Transporter;

  constructor(
    url: string,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport(url);
  }

  async send(message: OutboundMessage): Promise<void> {
    try {
      await this.transport.sendMail({
        from: this.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        headers: { 'X-Cashier-Reference': message.reference },
      });
    } catch (error) {
      // A 5xx reply refuses this message for good (unknown mailbox, policy); the rest may pass later.
      const code = (error as { responseCode?: unknown }).responseCode;
      if (typeof code === 'number' && code >= 500) {
        throw new UnrecoverableError(`SMTP server refused the message (${code})`);
      }
      throw error;
    }
  }

  close(): void {
    this.transport.close();
  }
}
