// Token expiry of token-authenticated sockets on this instance: `auth_expiring` 60 s before the
// access token expires, the close at expiry, and `refresh`, which moves both to a new token of the
// same user and session.
import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { AccessTokenService } from '../auth/access-token.service.js';
import { SessionService } from '../auth/session.service.js';
import { DomainError } from '../errors/domain-error.js';
import { forceLogout, type AuthenticatedPrincipal, type ControlEventMap, type UserSocket } from './realtime.types.js';
type TokenPrincipal = Extract<AuthenticatedPrincipal, { kind: 'user' }>;

const EXPIRY_NOTICE_S = 60;
/** On each token-authenticated socket, the second it is due at: positive before the notice, negative after. */
export const EXPIRY = Symbol('realtime:expiry');
type ExpiryHolder = UserSocket & { [EXPIRY]?: number };

@Injectable()
export class SocketExpiry implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /**
   * What is due in each second, checked by one timer per instance (a timer per socket would cost
   * more memory than the rest of its state).
   */
  private readonly due = new Map<number, Set<UserSocket>>();
  private tick?: NodeJS.Timeout;

  constructor(
    private readonly tokens: AccessTokenService,
    private readonly sessions: SessionService,
  ) {}

  onApplicationBootstrap(): void {
    this.tick = setInterval(() => this.checkExpiries(), 1000);
    this.tick.unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.tick);
  }

  /** First the `auth_expiring` notice, 60 s before expiry; then the close at expiry. */
  schedule(socket: UserSocket, principal: TokenPrincipal): void {
    this.unschedule(socket);
    const at = Math.max(Math.floor(Date.now() / 1000), principal.tokenExpiresAt - EXPIRY_NOTICE_S);
    (socket as ExpiryHolder)[EXPIRY] = at;
    this.dueAt(at).add(socket);
  }

  unschedule(socket: UserSocket): void {
    const marked = (socket as ExpiryHolder)[EXPIRY];
    if (marked === undefined) return;
    const at = Math.abs(marked);
    const due = this.due.get(at);
    due?.delete(socket);
    if (due?.size === 0) this.due.delete(at);
  }

  /** `refresh {access_token}`: the same user continues on a new token. */
  async refresh(socket: UserSocket, accessToken: string): Promise<{ expires_in: number }> {
    const current = socket.data.principal;
    if (current.kind !== 'user') throw new DomainError('UNAUTHORIZED', 'only a token-authenticated socket can refresh');
    const claims = await this.tokens.verify(accessToken);
    if (!claims || claims.sub !== current.userId || !(await this.sessions.isActive(claims.sid, claims.sub))) {
      throw new DomainError('UNAUTHORIZED', 'Invalid or expired token');
    }
    const principal: TokenPrincipal = {
      ...current,
      sessionId: claims.sid,
      role: claims.role,
      tokenExpiresAt: claims.exp,
    };
    socket.data.principal = principal;
    this.schedule(socket, principal);
    return { expires_in: claims.exp - Math.floor(Date.now() / 1000) };
  }

  private dueAt(second: number): Set<UserSocket> {
    let due = this.due.get(second);
    if (!due) {
      due = new Set();
      this.due.set(second, due);
    }
    return due;
  }

  private checkExpiries(): void {
    const now = Math.floor(Date.now() / 1000);
    for (const [second, sockets] of this.due) {
      if (second > now) continue;
      this.due.delete(second);
      for (const socket of sockets) this.expiryReached(socket, now);
    }
  }

  private expiryReached(socket: UserSocket, now: number): void {
    const marked = (socket as ExpiryHolder)[EXPIRY];
    const { principal } = socket.data;
    if (marked === undefined || socket.disconnected || principal.kind !== 'user') return;
    if (marked < 0 || principal.tokenExpiresAt <= now) {
      forceLogout(socket, 'expired');
      return;
    }
    socket.emit('auth_expiring', {
      expires_in: principal.tokenExpiresAt - now,
    } satisfies ControlEventMap['auth_expiring']);
    (socket as ExpiryHolder)[EXPIRY] = -principal.tokenExpiresAt;
    this.dueAt(principal.tokenExpiresAt).add(socket);
  }
}
