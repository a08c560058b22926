// Codes the worker sends, read out of the development mailbox (GET /api/v1/dev/outbox).
import type { Client } from './http.js';

/** The six-digit code in a message text. */
export function codeIn(text: string): string {
  const match = /\b(\d{6})\b/.exec(text);
  if (!match) throw new Error(`no code in ${JSON.stringify(text)}`);
  return match[1];
}

/** A code different from `code` (for wrong-code tests). */
export const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/** The code of the first message for `to`, once the worker has delivered it (15 s at most). */
export async function codeFromMailbox(api: Client, to: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const result = await api.get(`/api/v1/dev/outbox?to=${encodeURIComponent(to)}`);
    const messages = (result.body?.messages ?? []) as { text: string }[];
    if (messages.length > 0) return codeIn(messages[0].text);
    if (Date.now() > deadline) throw new Error(`no message for ${to}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
