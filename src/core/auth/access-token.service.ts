// Signs and verifies access tokens: HS256 only (the allow-list refuses `none` and every other
// algorithm), short-lived, with `sub`, `sid` and `role`.
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppConfig } from '../config/app-config.js';
import { isAccessTokenClaims, type AccessTokenClaims, type Role } from './auth.types.js';

export const JWT_ALGORITHM = 'HS256';
export const JWT_ISSUER = 'cashier';

@Injectable()
export class AccessTokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
  ) {}

  get ttlSeconds(): number {
    return this.config.env.JWT_ACCESS_TTL;
  }

  async sign(userId: string, sessionId: string, role: Role): Promise<string> {
    return this.jwt.signAsync({ sub: userId, sid: sessionId, role });
  }

  /** Verifies signature, algorithm, issuer and expiry; undefined when any of them fails. */
  async verify(token: string): Promise<AccessTokenClaims | undefined> {
    try {
      const claims: unknown = await this.jwt.verifyAsync(token);
      return isAccessTokenClaims(claims) ? claims : undefined;
    } catch {
      return undefined;
    }
  }
}
