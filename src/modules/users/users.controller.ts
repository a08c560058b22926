import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../../core/auth/auth.decorators.js';
import type { AuthUser } from '../../core/auth/auth.types.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { toUserView, type UserView } from './user.entity.js';
import { UsersService } from './users.service.js';

@ApiTags('user')
@ApiBearerAuth()
@Controller('user')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'The signed-in user, with the private channel id' })
  async me(@CurrentUser() principal: AuthUser): Promise<UserView> {
    const user = await this.users.findById(principal.id);
    if (!user) throw DomainError.unauthorized();
    return toUserView(user);
  }
}
