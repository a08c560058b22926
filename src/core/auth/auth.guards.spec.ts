import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors/domain-error.js';
import { Roles } from './auth.decorators.js';
import { RolesGuard } from './auth.guards.js';
import type { AuthUser } from './auth.types.js';

class AdminOnly {
  @Roles('admin')
  handle(): void {}

  open(): void {}
}

function contextFor(handler: keyof AdminOnly, user?: Partial<AuthUser>): ExecutionContext {
  return {
    getHandler: () => AdminOnly.prototype[handler],
    getClass: () => AdminOnly,
    getType: () => 'http',
    switchToHttp: () => ({ getRequest: () => ({ user }) }),
  } as unknown as ExecutionContext;
}

describe('RolesGuard', () => {
  const guard = new RolesGuard(new Reflector());

  it('lets any authenticated user through a route without @Roles', () => {
    expect(guard.canActivate(contextFor('open', { role: 'user' }))).toBe(true);
  });

  it('lets an admin through an admin route', () => {
    expect(guard.canActivate(contextFor('handle', { role: 'admin' }))).toBe(true);
  });

  it('refuses a user on an admin route with FORBIDDEN', () => {
    const refuse = () => guard.canActivate(contextFor('handle', { role: 'user' }));
    expect(refuse).toThrow(DomainError);
    expect(refuse).toThrow('this action needs the admin role');
  });

  it('refuses an anonymous request on an admin route with UNAUTHORIZED', () => {
    try {
      guard.canActivate(contextFor('handle'));
      expect.unreachable();
    } catch (error) {
      expect((error as DomainError).code).toBe('UNAUTHORIZED');
    }
  });
});
