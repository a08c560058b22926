import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../../core/auth/auth.decorators.js';
import type { AuthUser } from '../../core/auth/auth.types.js';
import type { UserView } from './user.entity.js';
import { UsersService } from './users.service.js';
import { ApiAnswer } from '../../core/http/openapi.js';

@ApiTags('user')
@ApiBearerAuth()
@Controller('user')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post('channel/rotate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Issue a new private channel id; sockets on the old one are closed' })
  @ApiAnswer(200, '{channel}')
  rotateChannel(@CurrentUser() principal: AuthUser): Promise<{ channel: string }> {
    return this.users.rotateChannel(principal.id);
  }

  @Get()
  @ApiOperation({ summary: 'The signed-in user, with the private channel id' })
  @ApiAnswer(200, '{id, email, phone, name, channel, state, plan, role, two_factor_enabled, created_at}')
  me(@CurrentUser() principal: AuthUser): Promise<UserView> {
    return this.users.profile(principal.id);
  }
}
