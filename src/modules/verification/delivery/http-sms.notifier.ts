// SMS and WhatsApp through an HTTP provider (SMS_PROVIDER_URL): one JSON POST per message,
// `{channel, to, text, reference}`, with `Authorization: Bearer SMS_PROVIDER_TOKEN` when set.
// A 2xx answer means accepted; other 4xx answers (but 408 and 429) will not change on retry.
import { UnrecoverableError } from 'bullmq';
import type { Notifier, OutboundMessage } from './notifier.js';

const TIMEOUT_MS = 10_000;

export class HttpSmsNotifier implements Notifier {
  readonly name = 'http-sms';

  constructor(
    private readonly url: string,
    private readonly token: string | undefined,
  ) {}

  async send(message: OutboundMessage): Promise<void> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: JSON.stringify({
        channel: message.channel,
        to: message.to,
        text: message.text,
        reference: message.reference,
      }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    // The body is not read into errors: it could echo the message back.
    await response.body?.cancel();
    if (response.ok) return;
    const status = response.status;
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      throw new UnrecoverableError(`SMS provider refused the message (HTTP ${status})`);
    }
    throw new Error(`SMS provider answered HTTP ${status}`);
  }
}
