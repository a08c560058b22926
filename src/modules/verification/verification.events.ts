// `verification` on the user's internal `verifications` stream (contract section 7, seed 003):
// each attempt to verify a code, and its outcome, written in the transaction that records it.
import type { EntityManager } from 'typeorm';
import type { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { internalStream } from '../../core/realtime/realtime.types.js';
import type { VerificationMethod, VerificationPurpose } from './verification.types.js';

export interface VerificationPayload {
  verified: boolean;
  method: VerificationMethod;
  purpose: VerificationPurpose;
  /** Why it failed (an error code of contract section 8); absent when verified. */
  reason?: string;
  /** From the code being sent (or asked for) to this attempt, in milliseconds; null when unknown. */
  verification_ms: number | null;
  /** When, in Unix milliseconds. */
  timestamp: number;
}

declare module '../../core/realtime/realtime.types.js' {
  interface RealtimeEventMap {
    verification: VerificationPayload;
  }
}

export function announceVerification(
  publisher: RealtimePublisher,
  tx: EntityManager,
  userId: string,
  attempt: { verified: boolean; method: VerificationMethod; purpose: VerificationPurpose; reason?: string },
  now: Date,
  challengedAt: Date | null,
): void {
  publisher.publish(tx, internalStream('verifications', userId), 'verification', {
    verified: attempt.verified,
    method: attempt.method,
    purpose: attempt.purpose,
    ...(attempt.reason ? { reason: attempt.reason } : {}),
    verification_ms: challengedAt ? Math.max(0, now.getTime() - challengedAt.getTime()) : null,
    timestamp: now.getTime(),
  });
}
