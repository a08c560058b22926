// The one interface every OTP delivery adapter implements (SMTP, the HTTP SMS/WhatsApp provider,
// the development mailbox).
import type { DeliveryChannel } from '../verification.types.js';

export interface OutboundMessage {
  /** Our id of the message (verification_messages.id), for the provider's idempotency. */
  reference: string;
  channel: DeliveryChannel;
  to: string;
  subject: string;
  text: string;
}

export interface Notifier {
  /** Recorded with the message as its provider. */
  readonly name: string;
  /**
   * Resolves once the provider has accepted the message. Throws on failure: an UnrecoverableError
   * (bullmq) when retrying cannot help, anything else to be retried with backoff.
   */
  send(message: OutboundMessage): Promise<void>;
}
