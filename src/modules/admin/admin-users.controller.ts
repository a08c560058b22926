import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles } from '../../core/auth/auth.decorators.js';
import type { AuthUser } from '../../core/auth/auth.types.js';
import { UserIdPipe } from '../users/user-id.pipe.js';
import { AdminUsersService } from './admin-users.service.js';
import { ApiAnswer, ApiErrors } from '../../core/http/openapi.js';

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/users')
export class AdminUsersController {
  constructor(private readonly users: AdminUsersService) {}

  @Post(':id/force-logout')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke every session of a user and close all their sockets, on every instance' })
  @ApiAnswer(200, '{user_id, sessions_revoked}')
  @ApiErrors('NOT_FOUND', 'FORBIDDEN')
  forceLogout(@CurrentUser() admin: AuthUser, @Param('id', UserIdPipe) userId: string) {
    return this.users.forceLogout(admin.id, userId);
  }
}
