// passport-jwt for HTTP: bearer token, HS256 only, issuer checked, then the session must still be
// live in Redis (revocation holds on every instance).
import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '../config/app-config.js';
import { DomainError } from '../errors/domain-error.js';
import { JWT_ALGORITHM, JWT_ISSUER } from './access-token.service.js';
import { jwtKey } from './jwt-key.js';
import { isAccessTokenClaims, type AuthUser } from './auth.types.js';
import { SessionService } from './session.service.js';

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AppConfig,
    private readonly sessions: SessionService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject (jsonwebtoken accepts it; the typings say string | Buffer), see jwt-key.ts.
      secretOrKey: jwtKey(config.jwtSecret) as unknown as Buffer,
      algorithms: [JWT_ALGORITHM],
      issuer: JWT_ISSUER,
      ignoreExpiration: false,
    });
  }

  async validate(payload: unknown): Promise<AuthUser> {
    if (!isAccessTokenClaims(payload)) throw DomainError.unauthorized();
    if (!(await this.sessions.isActive(payload.sid, payload.sub))) throw DomainError.unauthorized();
    return { id: payload.sub, sessionId: payload.sid, role: payload.role, tokenExpiresAt: payload.exp };
  }
}
