import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { AccessTokenService } from './access-token.service.js';
import { JwtAuthGuard, RolesGuard } from './auth.guards.js';
import { JwtStrategy } from './jwt.strategy.js';
import { SessionService } from './session.service.js';

/** Token and session machinery shared by every transport. */
@Global()
@Module({
  imports: [PassportModule, JwtModule.register({})],
  providers: [AccessTokenService, SessionService],
  exports: [AccessTokenService, SessionService],
})
export class AuthCoreModule {}

/** HTTP authentication: the passport strategy and the global guards (API only). */
@Module({
  imports: [AuthCoreModule],
  providers: [
    JwtStrategy,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
})
export class HttpAuthModule {}
