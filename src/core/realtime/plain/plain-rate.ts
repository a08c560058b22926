// What a plain connection counts itself about rate: the messages of a connection that has not
// authenticated yet (in memory; an authenticated one is counted per user in Redis, RealtimeLimits),
// and the refusals for rate, which close the connection with 4029 when they come too often. Made
// by a connection's first message or refusal: most connections never need it.
import type { MessageVerdict } from '../realtime-limits.service.js';

/** Refusals for rate that close the connection when they come this often. */
const STRIKES = 20;
const STRIKE_WINDOW_MS = 10_000;

export class PlainRate {
  private anonymousSecond = 0;
  private anonymousCount = 0;
  private strikesSince = 0;
  private strikesCount = 0;

  /** One message before authentication, against `perSecond`. */
  anonymous(perSecond: number): MessageVerdict {
    const second = Math.floor(Date.now() / 1000);
    if (this.anonymousSecond !== second) {
      this.anonymousSecond = second;
      this.anonymousCount = 0;
    }
    this.anonymousCount += 1;
    return this.anonymousCount > perSecond ? { allowed: false, retryAfter: 1, window: 'second' } : { allowed: true };
  }

  /** One more refusal for rate; true when there have been too many and the client must back off. */
  strike(): boolean {
    const now = Date.now();
    if (now - this.strikesSince > STRIKE_WINDOW_MS) {
      this.strikesSince = now;
      this.strikesCount = 0;
    }
    this.strikesCount += 1;
    return this.strikesCount >= STRIKES;
  }
}

/** Whether a reply is the gate's refusal of a request for rate. */
export function isRateRefusal(answer: unknown): boolean {
  const data = (answer as { type?: string; data?: { code?: string } } | undefined)?.data;
  return (answer as { type?: string } | undefined)?.type === 'error' && data?.code === 'RATE_LIMIT_EXCEEDED';
}
