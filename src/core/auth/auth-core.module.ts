import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { AppConfig } from '../config/app-config.js';
import { AccessTokenService, JWT_ALGORITHM, JWT_ISSUER } from './access-token.service.js';
import { jwtKey } from './jwt-key.js';
import { RequestBudgetGuard } from '../http/request-budget.guard.js';
import { JwtAuthGuard, RolesGuard } from './auth.guards.js';
import { JwtStrategy } from './jwt.strategy.js';
import { SessionService } from './session.service.js';

/** Token and session machinery shared by every transport. */
@Global()
@Module({
  imports: [
    PassportModule,
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        secret: jwtKey(config.jwtSecret),
        signOptions: { algorithm: JWT_ALGORITHM, issuer: JWT_ISSUER, expiresIn: config.env.JWT_ACCESS_TTL },
        verifyOptions: { algorithms: [JWT_ALGORITHM], issuer: JWT_ISSUER },
      }),
    }),
  ],
  providers: [AccessTokenService, SessionService],
  exports: [AccessTokenService, SessionService],
})
export class AuthCoreModule {}

/** HTTP authentication: the passport strategy and the global guards (API only), then the request budget. */
@Module({
  imports: [AuthCoreModule],
  providers: [
    JwtStrategy,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
    { provide: APP_GUARD, useClass: RequestBudgetGuard },
  ],
})
export class HttpAuthModule {}
