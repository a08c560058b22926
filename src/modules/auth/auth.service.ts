// Signup, login, refresh and logout: users (modules/users) plus sessions and tokens (core/auth).
import { Injectable } from '@nestjs/common';
import { AccessTokenService } from '../../core/auth/access-token.service.js';
import { AppConfig } from '../../core/config/app-config.js';
import { AccountsService } from '../accounts/accounts.service.js';
import { SessionService } from '../../core/auth/session.service.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { toUserView, type UserEntity, type UserView } from '../users/user.entity.js';
import { UsersService, type NewUser } from '../users/users.service.js';
import { LoginThrottle } from './login-throttle.js';
import { Transactions } from '../../core/database/transactions.js';

export interface TokenPair {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
}

export interface ClientMeta {
  userAgent?: string;
  ip?: string;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly transactions: Transactions,
    private readonly accounts: AccountsService,
    private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly sessions: SessionService,
    private readonly tokens: AccessTokenService,
    private readonly throttle: LoginThrottle,
  ) {}

  /** A new user and, in the same transaction, wallets in the default currencies. */
  async signup(input: NewUser): Promise<UserView> {
    const user = await this.transactions.run(async (tx) => {
      const created = await this.users.create(input, 'user', tx);
      await this.accounts.openWallets(tx, created.id, this.config.business.defaultWallets);
      return created;
    });
    return toUserView(user);
  }

  async login(email: string, password: string, meta: ClientMeta): Promise<TokenPair & { user: UserView }> {
    const attempt = await this.throttle.attempt(email, meta.ip);
    const user = await this.users.findByCredentials(email, password);
    // One answer for an unknown email and a wrong password.
    if (!user) throw new DomainError('AUTHENTICATION_FAILED', 'invalid email or password');
    await this.throttle.succeeded(attempt);
    if (user.state !== 'active') throw new DomainError('AUTHENTICATION_FAILED', 'this account is suspended');
    const session = await this.sessions.open(user.id, meta);
    return { ...(await this.pair(user, session.sessionId, session.refreshToken)), user: toUserView(user) };
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const rotated = await this.sessions.rotate(refreshToken);
    const user = await this.users.findById(rotated.userId);
    if (!user || user.state !== 'active') {
      await this.sessions.revoke(rotated.sessionId, 'admin');
      throw new DomainError('AUTHENTICATION_FAILED', 'invalid or expired refresh token');
    }
    return this.pair(user, rotated.sessionId, rotated.refreshToken);
  }

  async logout(sessionId: string): Promise<void> {
    await this.sessions.revoke(sessionId, 'logout');
  }

  private async pair(user: UserEntity, sessionId: string, refreshToken: string): Promise<TokenPair> {
    return {
      access_token: await this.tokens.sign(user.id, sessionId, user.role),
      token_type: 'Bearer',
      expires_in: this.tokens.ttlSeconds,
      refresh_token: refreshToken,
    };
  }
}
