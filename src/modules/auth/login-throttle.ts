// Throttles password guessing, across instances (Redis): each login attempt is counted against
// its account (the email as given, normalized and hashed, known or not, so a refusal says nothing
// about whether an account exists) and its client address before the password is checked; a
// success gives the account's attempt back. Past the limit within the window, logins for that
// account or from that address are refused with 429 and retry_after, the right password included.
// Counting before checking makes a parallel burst count too: 200 guesses sent at once get at most
// the limit through.
//
// The script touches an account's and an address's counter at once, so on a Redis Cluster both
// must live in one slot: all login counters share one hash tag (`{login-attempts}`). They sit on one
// node then; logins are few next to what one Redis node serves.
import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { RedisService } from '../../core/redis/redis.service.js';

// KEYS: account, address. ARGV: account limit, address limit, window ms.
// Returns 0 when counted, else the ms until the blocking counter expires.
const ATTEMPT_SCRIPT = `
local account = tonumber(redis.call('GET', KEYS[1]) or '0')
local address = tonumber(redis.call('GET', KEYS[2]) or '0')
if account >= tonumber(ARGV[1]) then return math.max(redis.call('PTTL', KEYS[1]), 1) end
if address >= tonumber(ARGV[2]) then return math.max(redis.call('PTTL', KEYS[2]), 1) end
for i = 1, 2 do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
end
return 0`;

export interface LoginAttempt {
  accountKey: string;
  addressKey: string;
}

@Injectable()
export class LoginThrottle {
  constructor(
    private readonly redis: RedisService,
    private readonly config: AppConfig,
  ) {}

  /** Counts an attempt, or refuses it with RATE_LIMIT_EXCEEDED when either limit is reached. */
  async attempt(email: string, address: string | undefined): Promise<LoginAttempt> {
    const accountHash = createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 32);
    const attempt = {
      accountKey: this.redis.key('{login-attempts}', 'account', accountHash),
      addressKey: this.redis.key('{login-attempts}', 'address', address ?? 'unknown'),
    };
    const { LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_IP, LOGIN_FAILURE_WINDOW_S } = this.config.env;
    const waitMs = Number(
      await this.redis.client.eval(
        ATTEMPT_SCRIPT,
        2,
        attempt.accountKey,
        attempt.addressKey,
        LOGIN_FAILURES_PER_ACCOUNT,
        LOGIN_FAILURES_PER_IP,
        LOGIN_FAILURE_WINDOW_S * 1000,
      ),
    );
    if (waitMs > 0) {
      const retryAfter = Math.ceil(waitMs / 1000);
      throw new DomainError('RATE_LIMIT_EXCEEDED', `too many failed logins: retry after ${retryAfter} seconds`, {
        data: { retry_after: retryAfter },
      });
    }
    return attempt;
  }

  /** A successful login: the account's attempts are forgotten, the address's one given back. */
  async succeeded(attempt: LoginAttempt): Promise<void> {
    await this.redis.client.pipeline().del(attempt.accountKey).decr(attempt.addressKey).exec();
  }
}
