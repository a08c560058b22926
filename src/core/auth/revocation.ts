// Announcements that a credential stopped being valid, on one Redis channel, so every instance
// can close the sockets that authenticated with it.
import type { RedisService } from '../redis/redis.service.js';

export type RevokeReason = 'logout' | 'refresh_token_reuse' | 'admin' | 'revoked';

export type CredentialRevoked =
  | { kind: 'session'; sessionId: string; userId: string; reason: RevokeReason }
  | { kind: 'api_key'; apiKeyId: string; userId: string; reason: RevokeReason };

export const revocationChannel = (redis: RedisService): string => redis.key('credential-revoked');

export async function announceRevoked(redis: RedisService, message: CredentialRevoked): Promise<void> {
  await redis.publish(revocationChannel(redis), JSON.stringify(message));
}
